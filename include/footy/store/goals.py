"""Goal documents: confirmed goals enter the clip stages; withdrawn goals leave them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from footy.goals import GoalTrack
from footy.store.db import GOALS, VIDEOS
from footy.store.retry import retry_when_locked
from footy.store.status import new_processing_status

CONFIRMED = "confirmed"
UNNAMED_SCORER = "Unnamed scorer"  # label of a goal the feed never named a scorer for
WITHDRAWN = "withdrawn"


def goal_fields(track: GoalTrack, fixture: dict[str, Any]) -> dict[str, Any]:
    """What a goal document says about the goal (mutable facts: minute, names)."""
    info = fixture["fixture"]
    home = track.team_id == info["home_team_id"]
    minute = f"{track.elapsed}+{track.extra}'" if track.extra else f"{track.elapsed}'"
    return {
        "fixture_id": track.fixture_id,
        "team_id": track.team_id,
        "team_name": track.team_name,
        "opponent_name": info["away_team_name"] if home else info["home_team_name"],
        "player_id": track.player_id,
        "player_name": track.player_name,
        "assist_name": track.assist_name,
        "kind": track.kind,
        "detail": track.detail,
        "elapsed": track.elapsed,
        "extra": track.extra,
        "minute": minute,
        "kickoff": fixture.get("kickoff"),
        "first_seen_after": track.first_seen_after,
        "league_id": info.get("league_id"),
        "fixture_label": fixture.get("label"),
        # How the grid names a goal's task instances: "E. Haaland 11' Man City v Arsenal".
        "label": (
            f"{track.player_name or UNNAMED_SCORER} {minute} "
            f"{info['home_team_name']} v {info['away_team_name']}"
        ),
    }


@retry_when_locked
def upsert_confirmed_goal(
    db: Database, track: GoalTrack, fixture: dict[str, Any], now: datetime
) -> bool:
    """Create or refresh a confirmed goal. Returns True when the goal is new.

    Idempotent: re-running with the same track writes the same values. A goal withdrawn
    earlier and confirmed again returns to the stages where it left them.
    """
    update = {
        "$set": {**goal_fields(track, fixture), "status": CONFIRMED},
        "$setOnInsert": {"confirmed_at": now, "processing_status": new_processing_status(now)},
        "$unset": {"withdrawn_reason": ""},
    }
    for _ in range(2):
        try:
            result = db[GOALS].update_one({"_id": track.goal_id}, update, upsert=True)
            return result.upserted_id is not None
        except DuplicateKeyError:
            continue  # FerretDB's upsert is find-then-insert: a racer inserted; update it now
    raise RuntimeError(f"goal {track.goal_id} could not be upserted")


@retry_when_locked
def withdraw_goal(db: Database, goal_id: str, reason: str, now: datetime) -> bool:
    """Withdraw a goal (VAR-disallowed). True if it was confirmed until now."""
    result = db[GOALS].update_one(
        {"_id": goal_id, "status": {"$ne": WITHDRAWN}},
        {"$set": {"status": WITHDRAWN, "withdrawn_reason": reason, "withdrawn_at": now}},
    )
    return result.modified_count == 1


def fixture_goals_done(db: Database, fixture_id: int) -> bool:
    """Every confirmed goal of the fixture has finished every stage, and no withdrawn goal
    still has a clip in storage (filter_videos removes those)."""
    if db[GOALS].count_documents(
        {"fixture_id": fixture_id, "status": CONFIRMED, "processing_status.completed": False}
    ):
        return False
    withdrawn = db[GOALS].distinct("_id", {"fixture_id": fixture_id, "status": WITHDRAWN})
    return not withdrawn or not db[VIDEOS].count_documents(
        {"goal_id": {"$in": withdrawn}, "state": {"$in": ["stored", "kept"]}}
    )
