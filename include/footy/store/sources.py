"""Clip sources: paused when their credentials are rejected, and their request windows.

A rejected token is not a goal's problem, and retrying it every minute only fails a task
every minute. The first rejection pauses the source (one document per source in
``sources``), naming the credential it was given by a fingerprint (never the secret). While
it is paused with that same credential no search goes to it, its work is not reported as
waiting, and ``footy status`` shows it. Any other credential (the connection was changed)
resumes it.

Each response's rate-limit headers are remembered on the same document (``window``: limit,
requests left, reset time), so every task sees how many requests the source has left before
it spends one (``footy.pipeline.discover`` keeps part of them for goals not searched yet).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from footy.store.retry import retry_when_locked

SOURCES = "sources"


def credential_id(secret: str) -> str:
    """A fingerprint of a credential: tells two apart, reveals neither."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


@retry_when_locked
def pause(db: Database, source: str, credential: str, error: BaseException,
          now: datetime) -> bool:  # fmt: skip
    """Pause ``source`` for ``credential``; False when it already was (someone else saw it
    first), so only one task reports it."""
    paused = {"credential": credential, "at": now,
              "error": {"type": type(error).__name__, "message": str(error)[:500]}}  # fmt: skip
    try:
        result = db[SOURCES].update_one(
            {"_id": source, "paused.credential": {"$ne": credential}},
            {"$set": {"paused": paused}}, upsert=True,
        )  # fmt: skip
    except DuplicateKeyError:  # the document exists and is paused for this credential
        return False
    return bool(result.modified_count or result.upserted_id is not None)


@retry_when_locked
def resume_if_changed(db: Database, source: str, credential: str, now: datetime) -> bool:
    """Resume ``source`` when it is paused for another credential; True when it was."""
    result = db[SOURCES].update_one(
        {"_id": source, "paused": {"$exists": True}, "paused.credential": {"$ne": credential}},
        {"$unset": {"paused": ""}, "$set": {"resumed_at": now}},
    )  # fmt: skip
    return bool(result.modified_count)


def paused(db: Database, source: str) -> dict[str, Any] | None:
    """The pause of ``source`` (credential, at, error), or None."""
    doc = db[SOURCES].find_one({"_id": source}, {"paused": 1})
    return (doc or {}).get("paused")


def paused_sources(db: Database) -> dict[str, dict[str, Any]]:
    return {d["_id"]: d["paused"] for d in db[SOURCES].find({"paused": {"$exists": True}})}


@retry_when_locked
def record_window(db: Database, source: str, limit: int | None, remaining: int | None,
                  reset_at: datetime | None) -> None:  # fmt: skip
    """Remember where ``source``'s request window stands after a response: its reset time
    and the fewest requests seen left in it (tasks report out of order). A later window
    replaces an earlier one; within one window the count only goes down."""
    if remaining is None or reset_at is None:
        return
    window = {"limit": limit, "remaining": remaining, "reset_at": reset_at}
    newer = {"_id": source, "$or": [{"window.reset_at": {"$lt": reset_at}},
                                    {"window.reset_at": {"$exists": False}}]}
    try:
        if db[SOURCES].update_one(newer, {"$set": {"window": window}}, upsert=True).matched_count:
            return
    except DuplicateKeyError:  # the document exists with a window at least as recent
        pass
    db[SOURCES].update_one(
        {"_id": source, "window.reset_at": reset_at, "window.remaining": {"$gt": remaining}},
        {"$set": {"window.remaining": remaining}},
    )  # fmt: skip


def windows(db: Database, names: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """The last known request window of each source (of ``names``, when given)."""
    query: dict[str, Any] = {"window": {"$exists": True}}
    if names is not None:
        query["_id"] = {"$in": list(names)}
    return {d["_id"]: d["window"] for d in db[SOURCES].find(query, {"window": 1})}
