"""Read-only operator queries: what is where, what is stuck, what failed."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database

from footy.store.api_usage import usage_today
from footy.store.db import (
    CLAIMS,
    FIXTURES_ACTIVE,
    FIXTURES_COMPLETED,
    FIXTURES_STAGING,
    GOALS,
    VIDEOS,
    as_utc,
)

# The seed's "Check MongoDB Status" queries, in pipeline order.
GOAL_STAGES = {
    "awaiting discovery": {"status": "confirmed", "processing_status.twitter_scraped": False},
    "awaiting download": {
        "status": "confirmed",
        "processing_status.twitter_scraped": True,
        "processing_status.videos_downloaded": False,
    },
    "awaiting filter": {
        "status": "confirmed",
        "processing_status.videos_downloaded": True,
        "processing_status.videos_filtered": False,
    },
    "completed": {"status": "confirmed", "processing_status.completed": True},
    "withdrawn": {"status": "withdrawn"},
}


def fixture_counts(db: Database) -> dict[str, int]:
    return {
        name: db[name].count_documents({})
        for name in (FIXTURES_STAGING, FIXTURES_ACTIVE, FIXTURES_COMPLETED)
    }


def expired_fixtures(db: Database, limit: int = 5) -> list[dict[str, Any]]:
    """The latest fixtures completed because they stayed active too long, with the reason."""
    cursor = db[FIXTURES_COMPLETED].find(
        {"outcome": "expired"}, {"label": 1, "completed_reason": 1, "completed_at": 1}
    ).sort("completed_at", -1).limit(limit)
    return [{"fixture": d["_id"], "label": d.get("label", str(d["_id"])),
             "reason": d.get("completed_reason", "")} for d in cursor]  # fmt: skip


def nameless_goals(db: Database, limit: int = 10) -> dict[str, Any]:
    """Goals without a scorer name: those still held for one (per active fixture, with the
    polls held so far) and those processed as unnamed goals."""
    held = [
        {"fixture": d["_id"], "label": d.get("label", str(d["_id"])), "team": h.get("team_name"),
         "minute": h.get("minute"), "reason": h.get("reason", "")}
        for d in db[FIXTURES_ACTIVE].find({"held_goals.0": {"$exists": True}},
                                          {"label": 1, "held_goals": 1}).limit(limit)
        for h in d["held_goals"]
    ]  # fmt: skip
    unnamed = db[GOALS].count_documents({"_id": {"$regex": "_unnamed_"}, "player_name": None})
    return {"held": held, "unnamed": unnamed}


def api_requests_today(db: Database, now: datetime | None = None) -> dict[str, Any]:
    """API-Football requests spent today (UTC), what is left, and the poll plan."""
    doc = usage_today(db, now or datetime.now(UTC))
    return {k: doc.get(k) for k in ("used", "budget", "left", "interval_s", "reason",
                                     "next_poll_at")}  # fmt: skip


def goal_counts(db: Database) -> dict[str, int]:
    return {stage: db[GOALS].count_documents(query) for stage, query in GOAL_STAGES.items()}


def video_counts(db: Database) -> dict[str, int]:
    return dict(Counter(doc.get("state", "?") for doc in db[VIDEOS].find({}, {"state": 1})))


def source_counts(db: Database) -> dict[str, dict[str, int]]:
    """Clips per source and state: ``{"reddit": {"kept": 3, "duplicate": 1}, ...}``."""
    counts: dict[str, Counter[str]] = {}
    for doc in db[VIDEOS].find({}, {"source": 1, "state": 1}):
        counts.setdefault(str(doc.get("source") or "?"), Counter())[doc.get("state", "?")] += 1
    return {name: dict(states) for name, states in sorted(counts.items())}


def stuck_claims(db: Database, now: datetime | None = None) -> list[dict[str, Any]]:
    """Claims whose lease ran out without a release: a worker died holding them."""
    now = now or datetime.now(UTC)
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for claim in db[CLAIMS].find({"released": False}):
        key = (claim["stage"], claim["goal_id"])
        if key not in latest or claim["attempt"] > latest[key]["attempt"]:
            latest[key] = claim
    stuck = []
    for claim in latest.values():
        expires = claim["expires_at"]
        expires = as_utc(expires)
        if expires < now and not db[CLAIMS].find_one(
            {
                "stage": claim["stage"],
                "goal_id": claim["goal_id"],
                "attempt": {"$gt": claim["attempt"]},
            },
            {"_id": 1},
        ):
            stuck.append(
                {
                    "stage": claim["stage"],
                    "goal_id": claim["goal_id"],
                    "owner": claim["owner"],
                    "expired_at": expires,
                }
            )
    return sorted(stuck, key=lambda c: c["expired_at"])


def recent_errors(db: Database, limit: int = 10) -> dict[str, Any]:
    """Goal and clip errors by class, with the latest few of each kind."""
    goal_errors = list(
        db[GOALS]
        .find(
            {"processing_status.last_error": {"$ne": None}},
            {"label": 1, "processing_status.last_error": 1},
        )
        .sort("processing_status.last_error.at", DESCENDING)
        .limit(limit)
    )
    clip_errors = list(
        db[VIDEOS]
        .find(
            {"download.error": {"$exists": True}}, {"goal_id": 1, "download.error": 1, "state": 1}
        )
        .sort("download.error.at", DESCENDING)
        .limit(200)
    )
    return {
        "goal_errors_by_class": dict(
            Counter(g["processing_status"]["last_error"]["type"] for g in goal_errors)
        ),
        "clip_errors_by_class": dict(Counter(v["download"]["error"]["type"] for v in clip_errors)),
        "latest_goal_errors": [
            {"goal": g.get("label") or g["_id"], **g["processing_status"]["last_error"]}
            for g in goal_errors
        ],
    }


def _seconds_between(start: Any, end: Any) -> float | None:
    if not start or not end:
        return None
    start, end = as_utc(start), as_utc(end)
    return round((end - start).total_seconds(), 1)


def goal_summaries(db: Database) -> list[dict[str, Any]]:
    """Per goal: clips found, rejected (with reasons), duplicates, keepers, and latency."""
    out = []
    for goal in db[GOALS].find({}).sort([("fixture_id", 1), ("elapsed", 1)]):
        videos = list(db[VIDEOS].find({"goal_id": goal["_id"]}))
        reasons: Counter[str] = Counter()
        for v in videos:
            if v.get("state") == "rejected":
                reasons.update(v.get("reject_reasons") or ["rejected"])
            elif v.get("state") == "failed":
                error = (
                    (v.get("download") or {}).get("error")
                    or (v.get("filter") or {}).get("error")
                    or {}
                )
                reasons[error.get("type", "failed")] += 1
        kept = [v for v in videos if v.get("state") == "kept"]
        first_kept = min(
            (
                (v.get("filter") or {}).get("decided_at")
                for v in kept
                if (v.get("filter") or {}).get("decided_at")
            ),
            default=None,
        )
        status = goal.get("processing_status", {})
        out.append(
            {
                "goal_id": goal["_id"],
                "label": goal.get("label", goal["_id"]),
                "status": goal.get("status"),
                "completed": bool(status.get("completed")),
                "clips_found": len(videos),
                "found_by_source": dict(Counter(str(v.get("source")) for v in videos)),
                "kept_by_source": dict(Counter(str(v.get("source")) for v in kept)),
                "rejected": dict(reasons),
                "duplicates": sum(1 for v in videos if v.get("state") == "duplicate"),
                "keepers": sorted(v["_id"] for v in kept),
                "seconds_to_first_keeper": _seconds_between(goal.get("confirmed_at"), first_kept),
                "seconds_to_completed": _seconds_between(
                    goal.get("confirmed_at"), status.get("completed_at")
                ),
            }
        )
    return out
