"""``processing_status``: the per-goal source of truth of what each stage has done."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pymongo.database import Database

from footy.errors import error_record
from footy.store.claims import Claim, release
from footy.store.db import GOALS
from footy.store.retry import retry_when_locked


class Stage(StrEnum):
    DISCOVER = "discover"
    DOWNLOAD = "download"
    FILTER = "filter"


# The seed's booleans, one per stage; ``completed`` follows the last stage.
STAGE_FLAGS = {
    Stage.DISCOVER: "twitter_scraped",
    Stage.DOWNLOAD: "videos_downloaded",
    Stage.FILTER: "videos_filtered",
}


def new_processing_status(now: datetime | None = None) -> dict[str, Any]:
    now = now or datetime.now(UTC)
    return {
        "twitter_scraped": False,
        "videos_downloaded": False,
        "videos_filtered": False,
        "completed": False,
        "attempts": {stage.value: 0 for stage in Stage},
        "last_error": None,
        "created_at": now,
        "updated_at": now,
    }


def _current_claim_filter(claim: Claim) -> dict[str, Any]:
    # A stale worker (its lease expired and a newer attempt was claimed) matches nothing.
    return {"_id": claim.goal_id, f"processing_status.claims.{claim.stage}.attempt": claim.attempt}


@retry_when_locked
def mark_stage_done(
    db: Database,
    claim: Claim,
    *,
    finished: bool = True,
    fields: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> bool:
    """Record the outcome of one run of a stage on a goal and release the claim.

    ``finished`` sets the stage's flag (``twitter_scraped``...); a stage that ran but has
    more to do later (another search attempt) passes ``finished=False``. Returns ``False``
    when the claim is no longer current: nothing was written.
    """
    now = now or datetime.now(UTC)
    updates: dict[str, Any] = dict(fields or {})
    updates["processing_status.updated_at"] = now
    if finished:
        updates[f"processing_status.{STAGE_FLAGS[Stage(claim.stage)]}"] = True
        updates[f"processing_status.{claim.stage}_done_at"] = now
        if claim.stage == Stage.FILTER:
            updates["processing_status.completed"] = True
            updates["processing_status.completed_at"] = now
    result = db[GOALS].update_one(_current_claim_filter(claim), {"$set": updates})
    release(db, claim)
    return result.matched_count == 1


@retry_when_locked
def mark_stage_failed(
    db: Database,
    claim: Claim,
    exc: BaseException,
    *,
    fields: dict[str, Any] | None = None,
    now: datetime | None = None,
) -> bool:
    """Record a stage error (type + message) where operators look, and release the claim."""
    now = now or datetime.now(UTC)
    record = {**error_record(exc), "stage": claim.stage, "attempt": claim.attempt, "at": now}
    updates: dict[str, Any] = dict(fields or {})
    updates["processing_status.last_error"] = record
    updates["processing_status.updated_at"] = now
    result = db[GOALS].update_one(
        _current_claim_filter(claim),
        {"$set": updates, "$inc": {f"processing_status.errors.{claim.stage}": 1}},
    )
    release(db, claim)
    return result.matched_count == 1
