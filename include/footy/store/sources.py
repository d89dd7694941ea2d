"""Clip sources whose credentials were rejected: paused until the credentials change.

A rejected token is not a goal's problem, and retrying it every minute only fails a task
every minute. The first rejection pauses the source (one document per source in
``sources``), naming the credential it was given by a fingerprint (never the secret). While
it is paused with that same credential no search goes to it, its work is not reported as
waiting, and ``footy status`` shows it. Any other credential (the connection was changed)
resumes it.
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
