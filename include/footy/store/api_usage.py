"""API-Football requests spent per UTC day, and when the next live poll may run.

One document per day (``_id = "api_football:2026-03-14"``): ``used`` grows by ``$inc`` (every
process that calls the API adds its own requests, atomically); the latest poll plan
(``next_poll_at``, ``interval_s``, ``reason``) and what the API said was left are ``$set``
with it in the same single-document update.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from footy.store.db import API_USAGE
from footy.store.retry import retry_when_locked


def usage_id(now: datetime) -> str:
    return f"api_football:{now.date().isoformat()}"


def usage_today(db: Database, now: datetime) -> dict[str, Any]:
    return db[API_USAGE].find_one({"_id": usage_id(now)}) or {"_id": usage_id(now), "used": 0}


@retry_when_locked
def record_requests(
    db: Database, now: datetime, requests: int, fields: dict[str, Any] | None = None
) -> None:
    """Add ``requests`` to today's count and set ``fields`` (the poll plan) with it."""
    update: dict[str, Any] = {"$inc": {"used": requests}, "$set": {"updated_at": now,
                                                                   **(fields or {})}}
    for _ in range(2):
        try:
            db[API_USAGE].update_one({"_id": usage_id(now)}, update, upsert=True)
            return
        except DuplicateKeyError:
            continue  # FerretDB's upsert is find-then-insert: a racer inserted; update it now
    raise RuntimeError(f"{usage_id(now)} could not be upserted")


def next_poll_at(db: Database, now: datetime) -> datetime | None:
    """The earliest time the budget lets the next live poll run (None: no limit set)."""
    doc = db[API_USAGE].find_one({"_id": usage_id(now)}, {"next_poll_at": 1})
    return (doc or {}).get("next_poll_at")
