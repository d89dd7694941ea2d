"""Exactly-once publication of a clip to a channel.

A publication is identified by ``(goal, what, channel)`` (``what`` is a video id, or
``withdrawn`` for a correction). Each try to send it is a document ``{key}#{n}`` inserted
*before* the send (``sending``) and completed after it (``sent`` or ``failed``). Inserts of
a unique ``_id`` decide races (FerretDB's filtered updates are not atomic), so two runs never
both send. The latest try of a key says where it stands:

* ``sent``: done, never sent again;
* ``failed``: the channel refused it (after retries): a later run tries again as ``n + 1``;
* ``sending``: a send in flight, or a worker that died between the two writes. Past its
  lease it is *uncertain* (the message may or may not have arrived): it is not sent again
  on its own; ``footy status`` lists it and an operator resolves it (:func:`resolve`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import DESCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

from footy.errors import error_record
from footy.store.db import as_utc
from footy.store.retry import retry_when_locked

PUBLICATIONS = "publications"
SENDING, SENT, FAILED = "sending", "sent", "failed"
WITHDRAWN_NOTICE = "withdrawn"


def publication_key(goal_id: str, what: str, channel: str) -> str:
    return f"{goal_id}|{what}|{channel}"


@dataclass(frozen=True)
class Attempt:
    key: str
    n: int
    owner: str

    @property
    def id(self) -> str:
        return f"{self.key}#{self.n}"


def latest(db: Database, key: str) -> dict[str, Any] | None:
    return db[PUBLICATIONS].find_one({"key": key}, sort=[("n", DESCENDING)])


def state_of(doc: dict[str, Any] | None, now: datetime) -> str | None:
    """``sent``, ``failed``, ``sending`` (in flight) or ``uncertain`` (its lease ran out)."""
    if doc is None:
        return None
    if doc["state"] == SENDING and as_utc(doc["lease_until"]) <= now:
        return "uncertain"
    return str(doc["state"])


@retry_when_locked
def begin(db: Database, key: str, fields: dict[str, Any], owner: str, now: datetime,
          lease: timedelta) -> Attempt | None:  # fmt: skip
    """Record a try before sending. ``None``: do not send (sent already, in flight, uncertain,
    or another run began this try first)."""
    last = latest(db, key)
    if last is not None and last["state"] != FAILED:
        return None
    attempt = Attempt(key, (last["n"] + 1) if last else 1, owner)
    try:
        db[PUBLICATIONS].insert_one({
            "_id": attempt.id, "key": key, "n": attempt.n, "state": SENDING, "owner": owner,
            "started_at": now, "lease_until": now + lease, **fields})  # fmt: skip
    except DuplicateKeyError:
        return None
    return attempt


@retry_when_locked
def finish(db: Database, attempt: Attempt, now: datetime, *, error: BaseException | None = None,
           fields: dict[str, Any] | None = None) -> None:  # fmt: skip
    """Complete this run's own try: ``sent``, or ``failed`` with the error."""
    update: dict[str, Any] = {"state": FAILED if error else SENT, "finished_at": now,
                              **(fields or {})}  # fmt: skip
    if error is not None:
        update["error"] = error_record(error)
    db[PUBLICATIONS].update_one({"_id": attempt.id, "owner": attempt.owner}, {"$set": update})


def uncertain(db: Database, now: datetime | None = None) -> list[dict[str, Any]]:
    """Tries whose sender died between recording and completing them."""
    now = now or datetime.now(UTC)
    found = {}
    for doc in db[PUBLICATIONS].find({}).sort([("key", 1), ("n", 1)]):
        found[doc["key"]] = doc
    return [d for d in found.values() if state_of(d, now) == "uncertain"]


@retry_when_locked
def resolve(db: Database, key: str, outcome: str, by: str, now: datetime) -> bool:
    """An operator's word on an uncertain try: ``sent`` (it arrived) or ``failed`` (send it
    again at the next run). Only the uncertain latest try changes."""
    if outcome not in (SENT, FAILED):
        raise ValueError("outcome must be 'sent' or 'failed'")
    last = latest(db, key)
    if state_of(last, now) != "uncertain" or last is None:
        return False
    db[PUBLICATIONS].update_one({"_id": last["_id"], "state": SENDING}, {"$set": {
        "state": outcome, "finished_at": now, "resolved_by": by}})  # fmt: skip
    return True


def counts(db: Database, now: datetime | None = None) -> dict[str, int]:
    """Publications by the state of their latest try (``footy status``)."""
    now = now or datetime.now(UTC)
    found: dict[str, dict[str, Any]] = {}
    for doc in db[PUBLICATIONS].find({}, {"key": 1, "n": 1, "state": 1, "lease_until": 1}):
        if doc["key"] not in found or doc["n"] > found[doc["key"]]["n"]:
            found[doc["key"]] = doc
    out: dict[str, int] = {}
    for doc in found.values():
        state = state_of(doc, now) or "?"
        out[state] = out.get(state, 0) + 1
    return out
