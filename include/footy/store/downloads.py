"""Queries of the download stage: due candidates, per-clip claims, and clip outcomes.

A clip (``videos`` document) is ``candidate`` until the download stage stores it
(``stored``) or gives up (``failed``); see the README's state table. Exclusive work on one
clip rests on an insert-based claim (:func:`footy.store.claims.claim_goal` under the stage
name ``download-clip`` with the video ``_id``), so overlapping runs download a clip once and
a killed worker's clip is claimed again when its lease is over. Every state change is a
single-document update conditioned on the state it leaves.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database

from footy.errors import error_record
from footy.store.claims import Claim, claim_goal
from footy.store.db import GOALS, VIDEOS
from footy.store.goals import CONFIRMED
from footy.store.retry import retry_when_locked

CLIP_CLAIM_STAGE = "download-clip"
CANDIDATE = "candidate"
STORED = "stored"
FAILED = "failed"


def due_query(now: Any) -> dict[str, Any]:
    """Candidates whose download is due at ``now`` (a datetime, or ``"$$NOW"`` for the
    sensor): never tried, or their transient-failure backoff is over."""
    return {
        "state": CANDIDATE,
        "$or": [
            {"download.next_attempt_at": {"$exists": False}},
            {"download.next_attempt_at": {"$lte": now}},
        ],
    }


def _confirmed(db: Database, goal_ids: list[str]) -> set[str]:
    if not goal_ids:
        return set()
    cursor = db[GOALS].find({"_id": {"$in": goal_ids}, "status": CONFIRMED}, {"_id": 1})
    return {doc["_id"] for doc in cursor}


def goals_with_download_work(db: Database, now: datetime, limit: int = 200) -> list[str]:
    """Confirmed goals with due candidates, plus searched goals not yet marked downloaded
    that have nothing pending (so a goal without any candidate is finished too)."""
    due = sorted(db[VIDEOS].distinct("goal_id", due_query(now)))
    idle_ids = [
        doc["_id"]
        for doc in db[GOALS].find(
            {
                "status": CONFIRMED,
                "processing_status.twitter_scraped": True,
                "processing_status.videos_downloaded": False,
            },
            {"_id": 1},
        )
    ]
    waiting = set(
        db[VIDEOS].distinct("goal_id", {"goal_id": {"$in": idle_ids}, "state": CANDIDATE})
    )
    work = _confirmed(db, due) | {g for g in idle_ids if g not in waiting}
    return sorted(work)[:limit]


@retry_when_locked
def hold_unconfirmed_candidates(db: Database, now: datetime, hold: timedelta) -> int:
    """Due candidates of goals that are not confirmed (withdrawn meanwhile) wait ``hold``
    before they count as due again, so they do not wake the sensor every minute. The goal
    may be confirmed again; then they are downloaded after the hold."""
    due = db[VIDEOS].distinct("goal_id", due_query(now))
    unconfirmed = sorted(set(due) - _confirmed(db, due))
    if not unconfirmed:
        return 0
    result = db[VIDEOS].update_many(
        {**due_query(now), "goal_id": {"$in": unconfirmed}},
        {"$set": {"download.next_attempt_at": now + hold, "download.held": "goal not confirmed"}},
    )
    return result.modified_count


def due_candidates(db: Database, goal_id: str, now: datetime) -> list[dict[str, Any]]:
    """The goal's due candidates, most popular first."""
    cursor = db[VIDEOS].find({**due_query(now), "goal_id": goal_id})
    return sorted(cursor, key=lambda d: (-int(d.get("popularity") or 0), str(d["_id"])))


def pending_count(db: Database, goal_id: str) -> int:
    """Candidates of the goal not yet stored or given up (due or waiting for a retry)."""
    return db[VIDEOS].count_documents({"goal_id": goal_id, "state": CANDIDATE})


def count_states(db: Database, goal_id: str) -> dict[str, int]:
    counts: dict[str, int] = {}
    for doc in db[VIDEOS].find({"goal_id": goal_id}, {"state": 1}):
        counts[doc.get("state", "?")] = counts.get(doc.get("state", "?"), 0) + 1
    return counts


def claim_clip(
    db: Database, video_id: str, owner: str, lease: timedelta, *, now: datetime | None = None
) -> Claim | None:
    """Exclusive, expiring claim on one clip; None while another worker holds it."""
    return claim_goal(db, CLIP_CLAIM_STAGE, video_id, owner, lease, now=now)


@retry_when_locked
def start_attempt(
    db: Database, video_id: str, claim: Claim, now: datetime
) -> dict[str, Any] | None:
    """Count a download attempt on a claimed clip; None when it is no longer a due candidate
    (stored, failed or rescheduled by the previous holder of the claim)."""
    result = db[VIDEOS].update_one(
        {**due_query(now), "_id": video_id},
        {
            "$inc": {"download.attempts": 1},
            "$set": {
                "download.started_at": now,
                "download.claim": {"owner": claim.owner, "attempt": claim.attempt},
            },
            "$unset": {"download.held": ""},
        },
    )
    if result.matched_count != 1:
        return None
    return db[VIDEOS].find_one({"_id": video_id})


@retry_when_locked
def mark_stored(db: Database, video_id: str, fields: dict[str, Any], now: datetime) -> bool:
    """``candidate`` -> ``stored`` with the storage location, digest and probed numbers."""
    result = db[VIDEOS].update_one(
        {"_id": video_id, "state": CANDIDATE},
        {
            "$set": {**fields, "state": STORED, "stored_at": now, "download.finished_at": now},
            "$unset": {"download.next_attempt_at": "", "download.error": ""},
        },
    )
    return result.matched_count == 1


@retry_when_locked
def mark_attempt_failed(
    db: Database,
    video_id: str,
    exc: BaseException,
    now: datetime,
    *,
    retry_at: datetime | None,
    extra: dict[str, Any] | None = None,
) -> bool:
    """Record a failed attempt: ``retry_at`` keeps it a candidate until then, None gives up
    (``failed``). The error's class and message are what operators read."""
    error = {**error_record(exc), "at": now}
    fields: dict[str, Any] = {
        "download.error": error,
        "download.transient": bool(getattr(exc, "transient", False)),
        **(extra or {}),
    }
    if retry_at is not None:
        fields["download.next_attempt_at"] = retry_at
        update: dict[str, Any] = {"$set": fields}
    else:
        fields.update({"state": FAILED, "failed_at": now, "download.finished_at": now})
        update = {"$set": fields, "$unset": {"download.next_attempt_at": ""}}
    result = db[VIDEOS].update_one({"_id": video_id, "state": CANDIDATE}, update)
    return result.matched_count == 1


@retry_when_locked
def reset_failed(db: Database, goal_id: str, now: datetime) -> int:
    """Manual ``force``: the goal's failed clips become candidates again, attempts reset."""
    result = db[VIDEOS].update_many(
        {"goal_id": goal_id, "state": FAILED},
        {
            "$set": {"state": CANDIDATE, "download.attempts": 0, "download.forced_at": now},
            "$unset": {"download.next_attempt_at": "", "failed_at": ""},
        },
    )
    return result.modified_count
