"""What the pipeline produced, shaped for reading: a match day's fixtures with their goals,
and one goal with its clips. Read-only; three queries for a whole day (fixtures, goals,
clips), never one per goal, and never the stored fingerprints."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from pymongo.database import Database

from footy.store.db import FIXTURES_ACTIVE, FIXTURES_COMPLETED, FIXTURES_STAGING, GOALS, VIDEOS
from footy.store.publications import PUBLICATIONS, state_of

# The four flags of a goal's processing_status, in pipeline order, with the time each was set.
STAGES = (
    ("discover", "twitter_scraped", "discover_done_at"),
    ("download", "videos_downloaded", "download_done_at"),
    ("filter", "videos_filtered", "filter_done_at"),
    ("completed", "completed", "completed_at"),
)
PHASES = {FIXTURES_STAGING: "scheduled", FIXTURES_ACTIVE: "live", FIXTURES_COMPLETED: "finished"}
CLIP_FIELDS = {
    "goal_id": 1, "source": 1, "source_id": 1, "post_url": 1, "state": 1, "quality": 1,
    "file": 1, "storage.key": 1, "storage.deleted_at": 1, "kept_reason": 1,
    "duplicate_of": 1, "duplicate_reason": 1, "reject_reasons": 1, "reject_detail": 1,
    "download.error": 1, "filter.error": 1, "removed_reason": 1, "text": 1,
}  # fmt: skip
GOAL_FIELDS = {
    "fixture_id": 1, "label": 1, "player_name": 1, "team_name": 1, "minute": 1,
    "elapsed": 1, "extra": 1, "kind": 1, "status": 1, "confirmed_at": 1,
    "withdrawn_reason": 1, "processing_status": 1,
}  # fmt: skip


def day_bounds(day: date) -> tuple[int, int]:
    """The UTC day as epoch seconds [start, end), as fixtures store their kickoff."""
    start = datetime.combine(day, time(0), tzinfo=UTC)
    return int(start.timestamp()), int((start + timedelta(days=1)).timestamp())


def match_day(db: Database, day: date) -> dict[str, Any]:
    """Every fixture kicking off on ``day`` (UTC), live first, then by kick-off; each with its
    goals in minute order, and each goal with its stages and clips."""
    lo, hi = day_bounds(day)
    fixtures = []
    for collection, phase in PHASES.items():
        for doc in db[collection].find({"fixture.timestamp": {"$gte": lo, "$lt": hi}},
                                       {"goal_events": 0, "debounce": 0}):  # fmt: skip
            fixtures.append(_fixture(doc, phase))
    ids = [f["id"] for f in fixtures]
    goals = [_goal(g) for g in db[GOALS].find({"fixture_id": {"$in": ids}}, GOAL_FIELDS)]
    clips = _clips_by_goal(db, [g["id"] for g in goals])
    by_fixture: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for g in goals:
        g["clips"] = clips.get(g["id"], _no_clips())
        by_fixture[g["fixture_id"]].append(g)
    order = {"live": 0, "finished": 1, "scheduled": 2}
    for f in fixtures:
        f["goals"] = sorted(by_fixture.get(f["id"], []), key=_minute_order)
    fixtures.sort(key=lambda f: (order[f["phase"]], f["kickoff"] or "", str(f["label"])))
    return {
        "day": day.isoformat(),
        "previous": (day - timedelta(days=1)).isoformat(),
        "next": (day + timedelta(days=1)).isoformat(),
        "fixtures": fixtures,
        "goal_count": len(goals),
    }


def goal_page(db: Database, goal_id: str) -> dict[str, Any] | None:
    """One goal with its fixture, stages, clips and publications (None when unknown)."""
    doc = db[GOALS].find_one({"_id": goal_id}, GOAL_FIELDS)
    if doc is None:
        return None
    goal = _goal(doc)
    goal["clips"] = _clips_by_goal(db, [goal_id]).get(goal_id, _no_clips())
    fixture = None
    for collection, phase in PHASES.items():
        found = db[collection].find_one({"_id": goal["fixture_id"]},
                                        {"goal_events": 0, "debounce": 0})  # fmt: skip
        if found:
            fixture = _fixture(found, phase)
            break
    now = datetime.now(UTC)
    latest: dict[str, dict[str, Any]] = {}
    for p in db[PUBLICATIONS].find({"goal_id": goal_id}).sort([("key", 1), ("n", 1)]):
        latest[p["key"]] = p
    goal["publications"] = [
        {"channel": p.get("channel"), "video_id": p.get("video_id"), "state": state_of(p, now),
         "tries": p.get("n"), "text": p.get("text"),
         "error": (p.get("error") or {}).get("message")}
        for p in latest.values()
    ]  # fmt: skip
    return {"goal": goal, "fixture": fixture}


def goal_exists(db: Database, goal_id: str) -> bool:
    return db[GOALS].count_documents({"_id": goal_id}, limit=1) == 1


def kept_clip(db: Database, video_id: str) -> dict[str, Any] | None:
    """The storage key of a clip whose object is still stored (kept, or a duplicate whose
    object was not deleted), or None."""
    doc = db[VIDEOS].find_one({"_id": video_id, "state": {"$in": ["kept", "duplicate"]}},
                              {"storage": 1, "state": 1})  # fmt: skip
    storage = (doc or {}).get("storage") or {}
    if not storage.get("key") or storage.get("deleted_at"):
        return None
    return {"key": storage["key"], "state": doc["state"]}  # type: ignore[index]


# ------------------------------------------------------------------------------ shaping


def _iso(value: Any) -> str | None:
    if isinstance(value, datetime):
        value = value if value.tzinfo else value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat(timespec="seconds")
    return None


def _fixture(doc: dict[str, Any], phase: str) -> dict[str, Any]:
    f = doc.get("fixture") or {}
    return {
        "id": doc["_id"],
        "label": f"{f.get('home_team_name', '?')} v {f.get('away_team_name', '?')}",
        "home": f.get("home_team_name"),
        "away": f.get("away_team_name"),
        "league": f.get("league_name"),
        "kickoff": _iso(doc.get("kickoff")) or f.get("date"),
        "status": doc.get("status") or f.get("status_short"),
        "elapsed": f.get("elapsed"),
        "phase": phase,
        "score": [f.get("goals_home"), f.get("goals_away")],
        "completed_reason": doc.get("completed_reason"),
    }


def _goal(doc: dict[str, Any]) -> dict[str, Any]:
    status = doc.get("processing_status") or {}
    error = status.get("last_error") or None
    return {
        "id": doc["_id"],
        "fixture_id": doc.get("fixture_id"),
        "label": doc.get("label") or doc["_id"],
        "scorer": doc.get("player_name"),
        "team": doc.get("team_name"),
        "minute": doc.get("minute") or (f"{doc['elapsed']}'" if doc.get("elapsed") else ""),
        "elapsed": doc.get("elapsed") or 0,
        "extra": doc.get("extra") or 0,
        "kind": doc.get("kind"),
        "status": doc.get("status"),
        "withdrawn_reason": doc.get("withdrawn_reason"),
        "confirmed_at": _iso(doc.get("confirmed_at")),
        "stages": [{"stage": name, "done": bool(status.get(flag)), "at": _iso(status.get(at))}
                   for name, flag, at in STAGES],  # fmt: skip
        "error": ({"type": error.get("type"), "message": error.get("message")}
                  if isinstance(error, dict) else None),  # fmt: skip
    }


def _minute_order(goal: dict[str, Any]) -> tuple:
    return (goal["elapsed"], goal["extra"], goal["id"])


def _no_clips() -> dict[str, list[dict[str, Any]]]:
    return {"kept": [], "pending": [], "rejected": [], "failed": [], "removed": []}


def _clips_by_goal(db: Database, goal_ids: list[str]) -> dict[str, dict[str, list]]:
    """Per goal: kept clips (each with its duplicates, best first), clips still in the
    pipeline, and rejected, failed and removed clips with their reasons."""
    if not goal_ids:
        return {}
    docs = list(db[VIDEOS].find({"goal_id": {"$in": goal_ids}}, CLIP_FIELDS).sort("_id", 1))
    out: dict[str, dict[str, list]] = {}
    duplicates: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in docs:
        if v.get("state") == "duplicate" and v.get("duplicate_of"):
            duplicates[v["duplicate_of"]].append(_clip(v))
    for v in docs:
        clips = out.setdefault(v["goal_id"], _no_clips())
        state = v.get("state")
        if state == "kept":
            clips["kept"].append({**_clip(v), "duplicates": duplicates.get(v["_id"], [])})
        elif state in ("rejected", "failed", "removed"):
            clips[state].append(_clip(v))
        elif state != "duplicate":
            clips["pending"].append(_clip(v))
    return out


def _clip(v: dict[str, Any]) -> dict[str, Any]:
    q = v.get("quality") or {}
    f = v.get("file") or {}
    error = (v.get("download") or {}).get("error") or (v.get("filter") or {}).get("error") or {}
    storage = v.get("storage") or {}
    reason = {
        "kept": v.get("kept_reason"),
        "duplicate": v.get("duplicate_reason"),
        "rejected": ", ".join(v.get("reject_reasons") or [])
        + (f" ({v['reject_detail']})" if v.get("reject_detail") else ""),
        "failed": f"{error.get('type', 'error')}: {error.get('message', '')}".strip(": "),
        "removed": v.get("removed_reason"),
    }.get(v.get("state", ""))
    width = q.get("eff_width") or f.get("width")
    height = q.get("eff_height") or f.get("height")
    return {
        "id": v["_id"],
        "source": v.get("source"),
        "post_url": v.get("post_url"),
        "state": v.get("state"),
        "reason": reason or None,
        "size": f"{width}x{height}" if width and height else None,
        "fps": q.get("fps") or f.get("fps"),
        "duration": q.get("duration") or f.get("duration_s"),
        "playable": bool(storage.get("key")) and not storage.get("deleted_at"),
        "duplicate_of": v.get("duplicate_of"),
    }
