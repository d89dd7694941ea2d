"""Exclusive, expiring work claims on goals.

A claim is a document with ``_id = "{stage}:{goal_id}:{attempt}"``, inserted and never
overwritten. Two workers racing for the same goal both try to insert the same next
attempt's ``_id``; the unique ``_id`` index lets exactly one win. This is atomic on MongoDB
and on FerretDB, where a filtered update is a read followed by a write and so cannot be
trusted to decide a race. A claim expires at ``expires_at``: a crashed worker's goal is
claimed again (as the next attempt) once its lease is over.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from pymongo import DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from footy.store.db import CLAIMS, GOALS, as_utc
from footy.store.retry import retry_when_locked


@dataclass(frozen=True)
class Claim:
    stage: str
    goal_id: str
    attempt: int
    owner: str
    expires_at: datetime

    @property
    def id(self) -> str:
        return f"{self.stage}:{self.goal_id}:{self.attempt}"


def _now() -> datetime:
    return datetime.now(UTC)


def claim_goal(
    db: Database,
    stage: str,
    goal_id: str,
    owner: str,
    lease: timedelta,
    *,
    now: datetime | None = None,
) -> Claim | None:
    """Claim ``goal_id`` for ``stage``; ``None`` when someone else holds a live claim."""
    now = now or _now()
    latest = db[CLAIMS].find_one(
        {"stage": stage, "goal_id": goal_id}, sort=[("attempt", DESCENDING)]
    )
    if latest and not latest.get("released") and as_utc(latest["expires_at"]) > now:
        return None
    claim = Claim(
        stage=stage,
        goal_id=goal_id,
        attempt=(latest["attempt"] + 1) if latest else 1,
        owner=owner,
        expires_at=now + lease,
    )
    if not _insert_claim(db, claim, now):
        return None
    _mirror_claim_on_goal(db, claim, now)
    return claim


@retry_when_locked
def _insert_claim(db: Database, claim: Claim, now: datetime) -> bool:
    """Insert the claim document; False when another worker inserted this attempt first."""
    try:
        db[CLAIMS].insert_one(
            {
                "_id": claim.id,
                "stage": claim.stage,
                "goal_id": claim.goal_id,
                "attempt": claim.attempt,
                "owner": claim.owner,
                "claimed_at": now,
                "expires_at": claim.expires_at,
                "released": False,
            }
        )
    except DuplicateKeyError:
        return False
    return True


@retry_when_locked
def _mirror_claim_on_goal(db: Database, claim: Claim, now: datetime) -> None:
    """Show the claim on the goal for operators ("stuck claims"); a newer attempt wins."""
    stage = claim.stage
    db[GOALS].update_one(
        {
            "_id": claim.goal_id,
            "$or": [
                {f"processing_status.claims.{stage}.attempt": {"$lt": claim.attempt}},
                {f"processing_status.claims.{stage}": {"$exists": False}},
            ],
        },
        {
            "$set": {
                f"processing_status.claims.{stage}": {
                    "owner": claim.owner,
                    "attempt": claim.attempt,
                    "expires_at": claim.expires_at,
                },
                "processing_status.updated_at": now,
            },
            "$inc": {f"processing_status.attempts.{stage}": 1},
        },
    )


def unclaimed(db: Database, stage: str, goal_ids: list[str], now: datetime) -> list[str]:
    """``goal_ids`` (in order) without those a worker holds a live ``stage`` claim on.

    A run selects its goals through this: mapping a task for a claimed goal would only
    start a process that finds the goal claimed.
    """
    if not goal_ids:
        return []
    query = {"stage": stage, "goal_id": {"$in": goal_ids}, "released": False,
             "expires_at": {"$gt": now}}  # fmt: skip
    busy = set(db[CLAIMS].distinct("goal_id", query))
    return [g for g in goal_ids if g not in busy]


@retry_when_locked
def renew(db: Database, claim: Claim, lease: timedelta) -> Claim:
    """Extend a live claim's lease (long downloads)."""
    renewed = Claim(claim.stage, claim.goal_id, claim.attempt, claim.owner, _now() + lease)
    db[CLAIMS].update_one(
        {"_id": claim.id, "owner": claim.owner}, {"$set": {"expires_at": renewed.expires_at}}
    )
    return renewed


@retry_when_locked
def release(db: Database, claim: Claim) -> None:
    """Let the next worker claim the goal now rather than at lease expiry."""
    db[CLAIMS].update_one(
        {"_id": claim.id, "owner": claim.owner},
        {"$set": {"released": True, "released_at": _now()}},
    )
