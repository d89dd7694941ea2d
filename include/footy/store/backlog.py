"""What each stage has waiting and nobody is working on: what its event-driven schedule watches.

A stage DAG run exists because there is work for it. Runs are started by the hand-off Asset
of the stage before (at once), and, for work no hand-off announced (a search attempt that
became due, a download retried later, a goal left behind by a run that crashed), by a
watcher in the triggerer that polls :func:`waiting` for its stage. Work that a live claim
covers, or that a run has mapped (``footy.store.selection``), is not waiting: a run is on it.

Only store queries here: the triggerer imports this module and must not pull in OpenCV,
yt-dlp or Airflow.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pymongo.database import Database

from footy.store import sources
from footy.store.api_usage import next_poll_at
from footy.store.claims import unclaimed
from footy.store.db import FIXTURES_ACTIVE, as_utc
from footy.store.discovery import due_goal_ids
from footy.store.downloads import goals_with_download_work
from footy.store.filtering import goals_with_filter_work
from footy.store.selection import unselected
from footy.store.status import Stage

LIMIT = 200
SEARCH_SOURCE = "x"  # the one clip source today


def fixtures_with_goal_changes(db: Database, now: datetime) -> list[Any]:
    """process_goals: fixtures whose goal changes are not yet processed."""
    cursor = db[FIXTURES_ACTIVE].find({"goal_changes.pending": True}, {"_id": 1}).sort("_id", 1)
    return [d["_id"] for d in cursor.limit(LIMIT)]


def goals_due_for_search(db: Database, now: datetime) -> list[Any]:
    """scrape_twitter: goals whose next search attempt is due; none while the clip source
    is paused for rejected credentials (a run could only skip them)."""
    if sources.paused(db, SEARCH_SOURCE):
        return []
    return unclaimed(db, Stage.DISCOVER, due_goal_ids(db, now, limit=LIMIT), now)


def goals_with_downloads(db: Database, now: datetime) -> list[Any]:
    """download_videos: goals with due candidates, or searched and not yet finished."""
    work = goals_with_download_work(db, now, limit=LIMIT)
    return unselected(db, Stage.DOWNLOAD, unclaimed(db, Stage.DOWNLOAD, work, now), now)


def goals_to_filter(db: Database, now: datetime) -> list[Any]:
    """filter_videos: goals with clips to filter, objects to delete or completion to record."""
    work = goals_with_filter_work(db, LIMIT)
    return unselected(db, Stage.FILTER, unclaimed(db, Stage.FILTER, work, now), now)


def active_fixtures(db: Database, now: datetime) -> list[Any]:
    """monitor_fixtures: every active fixture (polled while there is one), unless the day's
    API budget holds the next poll back (``footy.api_budget``)."""
    hold = next_poll_at(db, now)
    if hold is not None and as_utc(hold) > now:
        return []
    return [d["_id"] for d in db[FIXTURES_ACTIVE].find({}, {"_id": 1}).sort("_id", 1)]


FINDERS: dict[str, Callable[[Database, datetime], list[Any]]] = {
    "goal_changes": fixtures_with_goal_changes,
    "search": goals_due_for_search,
    "download": goals_with_downloads,
    "filter": goals_to_filter,
    "active_fixtures": active_fixtures,
}


def waiting(db: Database, kind: str, now: datetime) -> list[Any]:
    """Ids with ``kind`` work waiting, sorted; ``kind`` is a key of :data:`FINDERS`."""
    try:
        finder = FINDERS[kind]
    except KeyError:
        raise ValueError(f"unknown work kind {kind!r} (one of {', '.join(FINDERS)})") from None
    return sorted(finder(db, now))
