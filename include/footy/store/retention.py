"""The queries of the retention clean-up: what is old enough to go, and whether it is done.

A fixture goes once it has been completed for longer than the retention period and nothing
of it is in flight: every goal completed or withdrawn, no live claim on a goal or a clip.
Deletions are single documents with the condition that made them safe, so a goal re-opened
meanwhile (a late search, a forced download) is never deleted under a worker.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.database import Database

from footy.store.api_usage import usage_id
from footy.store.db import API_USAGE, CLAIMS, FIXTURES_COMPLETED, FIXTURES_STAGING, GOALS, VIDEOS
from footy.store.goals import CONFIRMED

# A goal is done when it is completed, or withdrawn (its clips were removed on withdrawal).
DONE_GOAL = {"$or": [{"processing_status.completed": True}, {"status": {"$ne": CONFIRMED}}]}


def expired_fixture_ids(db: Database, cutoff: datetime, limit: int = 500) -> list[int]:
    """Completed fixtures whose completion is older than ``cutoff``, oldest first."""
    cursor = db[FIXTURES_COMPLETED].find({"completed_at": {"$lt": cutoff}}, {"_id": 1})
    return [d["_id"] for d in cursor.sort("completed_at", 1).limit(limit)]


def fixture_contents(db: Database, fixture_id: int) -> dict[str, Any]:
    goals = list(db[GOALS].find({"fixture_id": fixture_id},
                                {"status": 1, "processing_status.completed": 1}))  # fmt: skip
    goal_ids = [g["_id"] for g in goals]
    video_ids = [v["_id"] for v in db[VIDEOS].find({"goal_id": {"$in": goal_ids}}, {"_id": 1})]
    return {"goal_ids": goal_ids, "video_ids": video_ids,
            "unfinished": [g["_id"] for g in goals if g.get("status") == CONFIRMED
                           and not (g.get("processing_status") or {}).get("completed")]}


def live_claims(db: Database, ids: list[str], now: datetime) -> int:
    """Unreleased, unexpired claims on these goals or clips (claims' ``goal_id`` is either)."""
    return db[CLAIMS].count_documents({"goal_id": {"$in": ids}, "released": False,
                                       "expires_at": {"$gt": now}})  # fmt: skip


def delete_fixture_records(db: Database, fixture_id: int, contents: dict[str, Any],
                           cutoff: datetime, now: datetime) -> dict[str, int]:  # fmt: skip
    """Delete the claims, clips, goals and fixture document, each only while still done."""
    ids = contents["goal_ids"] + contents["video_ids"]
    over = {"goal_id": {"$in": ids}, "$or": [{"released": True}, {"expires_at": {"$lte": now}}]}
    removed = {"claims": db[CLAIMS].delete_many(over).deleted_count,
               "clips": 0, "goals": 0, "fixtures": 0}  # fmt: skip
    for goal_id in contents["goal_ids"]:
        if db[GOALS].count_documents({"_id": goal_id, **DONE_GOAL}):
            removed["clips"] += db[VIDEOS].delete_many({"goal_id": goal_id}).deleted_count
            removed["goals"] += db[GOALS].delete_one({"_id": goal_id, **DONE_GOAL}).deleted_count
    if removed["goals"] == len(contents["goal_ids"]):
        removed["fixtures"] = db[FIXTURES_COMPLETED].delete_one(
            {"_id": fixture_id, "completed_at": {"$lt": cutoff}}).deleted_count
    return removed


def stale_staging_ids(db: Database, cutoff: datetime) -> list[int]:
    """Listed fixtures that never went live and kicked off before ``cutoff``."""
    return [d["_id"] for d in db[FIXTURES_STAGING].find({"kickoff": {"$lt": cutoff}}, {"_id": 1})]


def delete_staging(db: Database, fixture_id: int, cutoff: datetime) -> int:
    return db[FIXTURES_STAGING].delete_one(
        {"_id": fixture_id, "kickoff": {"$lt": cutoff}}).deleted_count


def old_usage_ids(db: Database, cutoff: datetime) -> list[str]:
    """API usage days before ``cutoff``'s day (ids sort by day: ``api_football:YYYY-MM-DD``)."""
    query = {"_id": {"$gte": usage_id(datetime.min), "$lt": usage_id(cutoff)}}
    return db[API_USAGE].distinct("_id", query)


def delete_usage(db: Database, usage_ids: list[str]) -> int:
    return db[API_USAGE].delete_many({"_id": {"$in": usage_ids}}).deleted_count
