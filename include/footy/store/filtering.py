"""filter_videos' queries: which goals have filtering work, and every clip state change.

Every state change is one conditional single-document update on the clip's current state
(``{_id, state: "stored"}`` -> ``kept``...), so a re-run or an overlapping stale worker
changes nothing that was already decided. Removing a stored object is recorded in two steps:
the state change sets ``storage.delete_pending``; the deletion clears it and sets
``storage.deleted_at``. A crash in between leaves the flag, and the next run deletes again
(deleting a missing object is not an error).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bson.binary import Binary
from pymongo import ReturnDocument
from pymongo.database import Database

from footy.store.db import GOALS, VIDEOS
from footy.store.goals import CONFIRMED, WITHDRAWN
from footy.store.retry import retry_when_locked

STORED = "stored"
KEPT = "kept"
DUPLICATE = "duplicate"
FAILED = "failed"
REMOVED = "removed"
LIVE_STATES = (STORED, KEPT, DUPLICATE)  # states whose object may still be in storage

DELETE_PENDING = "storage.delete_pending"

# What the filter_videos sensor waits for: a newly stored clip, or an object still to delete.
CLIP_WORK_QUERY: dict[str, Any] = {"$or": [{"state": STORED}, {DELETE_PENDING: True}]}

# Goals whose downloads are over but whose filtering is not: completes goals with no clips.
UNFILTERED_GOALS_QUERY: dict[str, Any] = {
    "status": CONFIRMED,
    "processing_status.videos_downloaded": True,
    "processing_status.videos_filtered": False,
}


# ------------------------------------------------------------------------------ finding work


def _withdrawn_goal_ids(db: Database) -> list[str]:
    return [d["_id"] for d in db[GOALS].find({"status": WITHDRAWN}, {"_id": 1})]


def goals_with_filter_work(db: Database, limit: int) -> list[str]:
    """Goal ids (sorted, at most ``limit``) with clips to filter, objects to delete, a
    completion to record, or clips of a withdrawn goal to remove."""
    ids = set(db[VIDEOS].distinct("goal_id", CLIP_WORK_QUERY))
    ids.update(d["_id"] for d in db[GOALS].find(UNFILTERED_GOALS_QUERY, {"_id": 1}))
    withdrawn = _withdrawn_goal_ids(db)
    if withdrawn:
        ids.update(
            db[VIDEOS].distinct(
                "goal_id", {"goal_id": {"$in": withdrawn}, "state": {"$in": list(LIVE_STATES)}}
            )
        )
    return sorted(ids)[:limit]


def undecided_keepers_query(goal_id: str, method: int) -> dict[str, Any]:
    """The goal's keepers whose decision was made by another dedup method than ``method``
    (``filter.method`` missing: before methods were recorded); :func:`decided_by` per clip."""
    return {"goal_id": goal_id, "state": KEPT, "filter.method": {"$ne": method}}


def decided_by(video: dict[str, Any]) -> int | None:
    """The dedup method that decided a clip's state (None: before methods were recorded)."""
    return (video.get("filter") or {}).get("method")


def goal_has_filter_work(db: Database, goal_id: str, method: int) -> bool:
    """Whether a run on ``goal_id`` would change anything (checked before claiming it, so
    that re-running on a finished goal writes nothing at all). Keepers decided by an older
    dedup ``method`` are work too: a run decides them again."""
    goal = db[GOALS].find_one({"_id": goal_id}, {"status": 1, "processing_status": 1})
    if goal is None:
        return False
    if db[VIDEOS].count_documents({"goal_id": goal_id, **CLIP_WORK_QUERY}, limit=1):
        return True
    if goal.get("status") != WITHDRAWN and db[VIDEOS].count_documents(
        undecided_keepers_query(goal_id, method), limit=1
    ):
        return True
    if goal.get("status") == WITHDRAWN:
        return bool(
            db[VIDEOS].count_documents(
                {"goal_id": goal_id, "state": {"$in": list(LIVE_STATES)}}, limit=1
            )
        )
    status = goal.get("processing_status") or {}
    return (
        goal.get("status") == CONFIRMED
        and bool(status.get("videos_downloaded"))
        and not status.get("videos_filtered")
    )


def find_goal(db: Database, goal_id: str) -> dict[str, Any] | None:
    return db[GOALS].find_one({"_id": goal_id})


def clips_in_state(db: Database, goal_id: str, *states: str) -> list[dict[str, Any]]:
    """The goal's clips in any of ``states``, by ``_id`` (a stable processing order)."""
    cursor = db[VIDEOS].find({"goal_id": goal_id, "state": {"$in": list(states)}})
    return sorted(cursor, key=lambda d: str(d["_id"]))


def count_in_state(db: Database, goal_id: str, state: str) -> int:
    return db[VIDEOS].count_documents({"goal_id": goal_id, "state": state})


# ------------------------------------------------------------------------------ fingerprints


@retry_when_locked
def save_fingerprint(
    db: Database,
    video_id: str,
    state: str,
    data: bytes,
    quality: dict[str, Any],
    now: datetime,
) -> bool:
    """Store a clip's fingerprint (BSON binary) while it is still in ``state``."""
    result = db[VIDEOS].update_one(
        {"_id": video_id, "state": state},
        {
            "$set": {
                "fingerprint": Binary(data),
                "quality": quality,
                "filter.fingerprinted_at": now,
            }
        },
    )
    return result.matched_count == 1


@retry_when_locked
def record_attempt_error(
    db: Database, video_id: str, state: str, error: dict[str, str], now: datetime
) -> int:
    """Count a failed (retryable) attempt to read a clip; returns the attempts so far."""
    doc = db[VIDEOS].find_one_and_update(
        {"_id": video_id, "state": state},
        {"$inc": {"filter.attempts": 1}, "$set": {"filter.last_error": {**error, "at": now}}},
        projection={"filter.attempts": 1},
        return_document=ReturnDocument.AFTER,
    )
    return int(((doc or {}).get("filter") or {}).get("attempts") or 0)


# ------------------------------------------------------------------------------ state changes


@retry_when_locked
def mark_failed(
    db: Database, video_id: str, from_state: str, error: dict[str, str], now: datetime
) -> bool:
    """An undecodable clip: failed, and its (useless) object to be deleted."""
    result = db[VIDEOS].update_one(
        {"_id": video_id, "state": from_state},
        {"$set": {"state": FAILED, "filter.error": error, "filter.failed_at": now,
                  DELETE_PENDING: True}},
    )  # fmt: skip
    return result.modified_count == 1


@retry_when_locked
def mark_kept(db: Database, video_id: str, why: str, method: int, now: datetime) -> bool:
    """A newly stored clip becomes a keeper (decided by dedup ``method``)."""
    result = db[VIDEOS].update_one(
        {"_id": video_id, "state": STORED},
        {"$set": {"state": KEPT, "kept_reason": why, "filter.decided_at": now,
                  "filter.method": method}},
    )  # fmt: skip
    return result.modified_count == 1


@retry_when_locked
def confirm_keeper(db: Database, video_id: str, why: str, method: int, now: datetime) -> bool:
    """A keeper decided by an older method stays a keeper under ``method``."""
    result = db[VIDEOS].update_one(
        {"_id": video_id, "state": KEPT, "filter.method": {"$ne": method}},
        {"$set": {"kept_reason": why, "filter.decided_at": now, "filter.method": method}},
    )
    return result.modified_count == 1


@retry_when_locked
def mark_duplicate(
    db: Database,
    video_id: str,
    from_state: str,
    duplicate_of: str,
    reason: str,
    *,
    delete_object: bool,
    method: int,
    now: datetime,
) -> bool:
    """A stored clip (or a replaced keeper) becomes a duplicate of ``duplicate_of``."""
    fields: dict[str, Any] = {
        "state": DUPLICATE,
        "duplicate_of": duplicate_of,
        "duplicate_reason": reason,
        "filter.decided_at": now,
        "filter.method": method,
    }
    if delete_object:
        fields[DELETE_PENDING] = True
    result = db[VIDEOS].update_one({"_id": video_id, "state": from_state}, {"$set": fields})
    return result.modified_count == 1


@retry_when_locked
def mark_removed(db: Database, video_id: str, from_state: str, reason: str, now: datetime) -> bool:
    """A clip of a withdrawn goal: removed, its object to be deleted."""
    result = db[VIDEOS].update_one(
        {"_id": video_id, "state": from_state},
        {
            "$set": {
                "state": REMOVED,
                "removed_reason": reason,
                "filter.removed_at": now,
                DELETE_PENDING: True,
            }
        },
    )
    return result.modified_count == 1


@retry_when_locked
def repoint_duplicate(
    db: Database, video_id: str, old_keeper: str, new_keeper: str, now: datetime
) -> bool:
    """Point a duplicate of a replaced keeper at the keeper that replaced it."""
    result = db[VIDEOS].update_one(
        {"_id": video_id, "state": DUPLICATE, "duplicate_of": old_keeper},
        {"$set": {"duplicate_of": new_keeper, "repointed_from": old_keeper,
                  "filter.repointed_at": now}},
    )  # fmt: skip
    return result.modified_count == 1


def objects_to_delete(db: Database, goal_id: str) -> list[dict[str, Any]]:
    cursor = db[VIDEOS].find({"goal_id": goal_id, DELETE_PENDING: True}, {"storage": 1})
    return sorted(cursor, key=lambda d: str(d["_id"]))


def object_in_use(db: Database, key: str, video_id: str) -> str | None:
    """Another clip still relying on the object ``key`` (the download stage stores identical
    bytes once, so two clips can share one object): its ``_id``, else None."""
    doc = db[VIDEOS].find_one(
        {
            "_id": {"$ne": video_id},
            "storage.key": key,
            "state": {"$in": list(LIVE_STATES)},
            DELETE_PENDING: {"$ne": True},
            "storage.deleted_at": {"$exists": False},
        },
        {"_id": 1},
    )
    return None if doc is None else doc["_id"]


@retry_when_locked
def mark_object_shared(db: Database, video_id: str, user: str, now: datetime) -> bool:
    """Not deleted: the object is also another clip's (``storage.shared_with``)."""
    result = db[VIDEOS].update_one(
        {"_id": video_id, DELETE_PENDING: True},
        {"$set": {"storage.shared_with": user, "filter.object_kept_at": now},
         "$unset": {DELETE_PENDING: ""}},
    )  # fmt: skip
    return result.modified_count == 1


@retry_when_locked
def mark_object_deleted(db: Database, video_id: str, now: datetime) -> bool:
    result = db[VIDEOS].update_one(
        {"_id": video_id, DELETE_PENDING: True},
        {"$set": {"storage.deleted_at": now}, "$unset": {DELETE_PENDING: ""}},
    )
    return result.modified_count == 1
