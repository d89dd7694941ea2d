"""Clip discovery's queries: due goals, candidate clips in ``videos``, search progress.

``videos`` documents are inserted once under ``_id = "{goal_id}:{source}:{source_id}"`` and
never overwritten here: a re-run or an overlapping run that finds the same post hits the
unique ``_id`` and leaves the stored document (and any later state the download or filter
stages gave it) alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from footy.store.db import GOALS, VIDEOS
from footy.store.goals import CONFIRMED
from footy.store.query import resolve_query
from footy.store.retry import retry_when_locked
from footy.store.selection import not_selected_query
from footy.store.status import Stage

CANDIDATE = "candidate"
REJECTED = "rejected"

SEARCH = "processing_status.search"

# What the scrape_twitter sensor waits for. "$$NOW" is resolved by the sensor at each check.
DUE_GOALS_QUERY: dict[str, Any] = {
    "status": CONFIRMED,
    "processing_status.twitter_scraped": False,
    "$and": [
        {"$or": [
            {f"{SEARCH}.next_at": {"$lte": "$$NOW"}},
            {f"{SEARCH}.next_at": {"$exists": False}},
            {f"{SEARCH}.next_at": None},
        ]},
        not_selected_query(Stage.DISCOVER),  # mapped by a run already (footy.store.selection)
    ],
}  # fmt: skip

# The order due goals are searched in: a goal not searched yet before a repeat attempt of an
# older one (a missing count sorts first), so that under load a new goal's first clips are
# not queued behind the repeat searches of goals that already have theirs.
DUE_GOALS_SORT: list[list[Any]] = [[f"{SEARCH}.attempts", 1], ["_id", 1]]


def due_goal_ids(
    db: Database, now: datetime, limit: int = 1024, among: list[str] | None = None
) -> list[str]:
    """Goals whose next search attempt is due (what the sensor waits for), in
    ``DUE_GOALS_SORT`` order; only those in ``among`` when given."""
    query = resolve_query(DUE_GOALS_QUERY, now)
    if among is not None:
        query = {**query, "_id": {"$in": among}}
    cursor = db[GOALS].find(query, {"_id": 1}).sort([tuple(k) for k in DUE_GOALS_SORT])
    return [d["_id"] for d in cursor.limit(limit)]


def unsearched_goal_ids(db: Database, limit: int = 1024) -> list[str]:
    """Confirmed goals whose search window is still open, due or not, oldest id first."""
    query = {"status": CONFIRMED, "processing_status.twitter_scraped": False}
    return [d["_id"] for d in db[GOALS].find(query, {"_id": 1}).sort("_id", 1).limit(limit)]


def video_id(goal_id: str, source: str, source_id: str) -> str:
    return f"{goal_id}:{source}:{source_id}"


def find_goal(db: Database, goal_id: str) -> dict[str, Any] | None:
    return db[GOALS].find_one({"_id": goal_id})


def goal_label(db: Database, goal_id: str) -> str:
    """The grid name of a goal's task instance (its id when the goal is unknown)."""
    doc = db[GOALS].find_one({"_id": goal_id}, {"label": 1})
    return str((doc or {}).get("label") or goal_id)


def stored_source_ids(db: Database, goal_id: str, source: str) -> set[str]:
    """Post ids of ``source`` already stored for the goal (any state)."""
    cursor = db[VIDEOS].find({"goal_id": goal_id, "source": source}, {"source_id": 1})
    return {str(doc["source_id"]) for doc in cursor}


def insert_new_videos(db: Database, docs: Iterable[dict[str, Any]]) -> list[str]:
    """Insert each document unless its ``_id`` exists. Returns the ``_id``s inserted now."""
    return [doc["_id"] for doc in docs if _insert_video(db, doc)]


@retry_when_locked
def _insert_video(db: Database, doc: dict[str, Any]) -> bool:
    try:
        db[VIDEOS].insert_one(doc)
    except DuplicateKeyError:
        return False  # found before (this run or an overlapping one): keep what is stored
    return True


def accepted_count(db: Database, goal_id: str) -> int:
    """Clips of the goal that passed the metadata gates (whatever happened to them since)."""
    return db[VIDEOS].count_documents({"goal_id": goal_id, "state": {"$ne": REJECTED}})


def rejected_count(db: Database, goal_id: str) -> int:
    return db[VIDEOS].count_documents({"goal_id": goal_id, "state": REJECTED})
