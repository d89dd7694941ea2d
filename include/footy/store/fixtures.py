"""Fixture documents across the three bucket collections.

A fixture lives in exactly one of ``fixtures_staging`` / ``fixtures_active`` /
``fixtures_completed``. Without multi-document transactions (FerretDB has none) a move is
"insert into the target, then delete from the source": a crash in between leaves a copy in
both, never in neither, and :func:`repair_buckets` (run first by every advance) removes the
stale earlier copy. Readers treat the later bucket as the truth.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from footy.api_football import Fixture
from footy.store.db import FIXTURES_ACTIVE, FIXTURES_COMPLETED, FIXTURES_STAGING, as_utc
from footy.store.retry import retry_when_locked

# Updates per bulk write. FerretDB answers a bulk write only when all of it is applied (25 to
# 350 ms per document on SQLite), so batches keep each call inside the client's timeout; and
# on its PostgreSQL backend an unordered bulk write of 50 updates hangs (its updates run at
# once and exhaust its connection pool) while 20 do not.
BULK_BATCH = 20
BUCKET_ORDER = (FIXTURES_STAGING, FIXTURES_ACTIVE, FIXTURES_COMPLETED)
BUCKET_COLLECTION = {
    "staging": FIXTURES_STAGING,
    "active": FIXTURES_ACTIVE,
    "completed": FIXTURES_COMPLETED,
    "void": FIXTURES_COMPLETED,  # postponed/cancelled/abandoned/awarded: done, never blocking
}


def fixture_fields(fixture: Fixture) -> dict[str, Any]:
    """The API's view of a fixture as stored (events kept separately)."""
    data = asdict(fixture)
    data.pop("events", None)
    return {
        "fixture": data,
        "kickoff": fixture.kickoff.astimezone(UTC),
        "status": fixture.status_short,
        "label": fixture_label(data),
    }


def fixture_label(data: dict[str, Any]) -> str:
    home, away = data.get("home_team_name") or "?", data.get("away_team_name") or "?"
    return f"{data['id']} {home} v {away}"


def find_fixture(db: Database, fixture_id: int) -> tuple[str, dict[str, Any]] | None:
    """(collection, document) of a fixture, the latest bucket winning."""
    for collection in reversed(BUCKET_ORDER):
        doc = db[collection].find_one({"_id": fixture_id})
        if doc is not None:
            return collection, doc
    return None


@retry_when_locked
def ingest_fixture(db: Database, fixture: Fixture, bucket: str, now: datetime) -> str:
    """Store a listed fixture once. Returns "inserted", "updated" or "unchanged".

    A fixture already known stays where it is (moves are advance's job); while it is still
    in staging its API fields are refreshed, so a re-run of the same day changes nothing.
    """
    fields = fixture_fields(fixture)
    if find_fixture(db, fixture.id) is None:
        doc = {"_id": fixture.id, **fields, "ingested_at": now}
        if bucket == "void":
            doc["outcome"] = "void"
            doc["completed_at"] = now
        try:
            db[BUCKET_COLLECTION[bucket]].insert_one(doc)
            return "inserted"
        except DuplicateKeyError:
            pass  # a concurrent ingest stored it first
    result = db[FIXTURES_STAGING].update_one({"_id": fixture.id}, {"$set": fields})
    return "updated" if result.modified_count else "unchanged"


@retry_when_locked
def move_fixture(
    db: Database, fixture_id: int, source: str, target: str, fields: dict[str, Any]
) -> bool:
    """Move one fixture between buckets (insert, then delete). False if it was not in source."""
    doc = db[source].find_one({"_id": fixture_id})
    if doc is None:
        return False
    try:
        db[target].insert_one({**doc, **fields})
    except DuplicateKeyError:
        pass  # an earlier, interrupted move already copied it: finish that move
    db[source].delete_one({"_id": fixture_id})
    return True


@retry_when_locked
def repair_buckets(db: Database) -> list[int]:
    """Remove earlier-bucket copies left by an interrupted move. Returns the repaired ids."""
    repaired: list[int] = []
    for i, earlier in enumerate(BUCKET_ORDER[:-1]):
        ids = [d["_id"] for d in db[earlier].find({}, {"_id": 1})]
        for later in BUCKET_ORDER[i + 1 :]:
            if not ids:
                break
            dupes = [d["_id"] for d in db[later].find({"_id": {"$in": ids}}, {"_id": 1})]
            if dupes:
                db[earlier].delete_many({"_id": {"$in": dupes}})
                repaired.extend(dupes)
                ids = [x for x in ids if x not in dupes]
    return repaired


def record_polls(
    db: Database, updates: dict[int, tuple[int, dict[str, Any], bool]], *, now: datetime
) -> tuple[list[int], list[dict[str, Any]]]:
    """Store one poll's results on active fixtures in unordered bulk writes.

    ``updates`` maps fixture id -> (poll sequence the result was computed from, fields to
    set, goal changes?). Each update applies only if no other poll stored since (compare
    and set on ``poll.seq``). Returns the fixtures stored, and an error record per fixture
    the server refused (the others are stored all the same)."""
    if not updates:
        return [], []
    ids = list(updates)
    token = uuid.uuid4().hex  # marks this write: which conditional updates applied
    ops = [UpdateOne(_seq_filter(f, updates[f][0]), _poll_update(*updates[f], now=now,
                                                                 token=token))
           for f in ids]  # fmt: skip
    errors: list[dict[str, Any]] = []
    for start in range(0, len(ops), BULK_BATCH):
        try:
            _bulk(db, ops[start : start + BULK_BATCH])
        except BulkWriteError as exc:
            for err in exc.details.get("writeErrors", []):
                fixture = ids[start + err["index"]]
                errors.append({"fixture": fixture, "type": "WriteError",
                               "message": str(err.get("errmsg", err))[:500]})  # fmt: skip
    stored = db[FIXTURES_ACTIVE].find({"_id": {"$in": ids}, "poll.token": token}, {"_id": 1})
    return sorted(d["_id"] for d in stored), errors


@retry_when_locked
def _bulk(db: Database, ops: list[UpdateOne]) -> None:
    db[FIXTURES_ACTIVE].bulk_write(ops, ordered=False)


def _seq_filter(fixture_id: int, expected_seq: int) -> dict[str, Any]:
    if expected_seq:
        return {"_id": fixture_id, "poll.seq": expected_seq}
    return {"_id": fixture_id, "poll.seq": {"$exists": False}}


def _poll_update(
    expected_seq: int, fields: dict[str, Any], goal_changes: bool, *, now: datetime, token: str
) -> dict[str, Any]:
    update: dict[str, Any] = {
        "$set": {**fields, "poll.seq": expected_seq + 1, "poll.at": now, "poll.token": token}
    }
    if goal_changes:
        update["$set"]["goal_changes.pending"] = True
        update["$set"]["goal_changes.at"] = now
        update["$inc"] = {"goal_changes.seq": 1}
    return update


def fixtures_with_goal_changes(db: Database) -> list[int]:
    """Active fixtures whose goal changes await process_goals."""
    cursor = db[FIXTURES_ACTIVE].find({"goal_changes.pending": True}, {"_id": 1}).sort("_id", 1)
    return [d["_id"] for d in cursor]


@retry_when_locked
def clear_goal_changes(db: Database, collection: str, fixture_id: int, seen_seq: int) -> bool:
    """Mark a fixture's goal changes processed, unless newer changes arrived meanwhile."""
    result = db[collection].update_one(
        {"_id": fixture_id, "goal_changes.seq": seen_seq, "goal_changes.pending": True},
        {"$set": {"goal_changes.pending": False, "goal_changes.processed_at": datetime.now(UTC)}},
    )
    return result.matched_count == 1


def staging_due_for_refresh(db: Database, before: datetime, limit: int) -> list[int]:
    """Listed fixtures not refreshed since ``before``, soonest kick-off first."""
    query = {"$or": [{"refreshed_at": {"$lt": before}}, {"refreshed_at": {"$exists": False}}]}
    cursor = db[FIXTURES_STAGING].find(query, {"_id": 1}).sort("kickoff", 1).limit(limit)
    return [d["_id"] for d in cursor]


@retry_when_locked
def refresh_staging_fixture(db: Database, fixture: Fixture, now: datetime) -> dict[str, Any] | None:
    """Store the API's current view of a fixture still in staging; returns what changed
    (kick-off, status), or None when it is no longer in staging."""
    fields = fixture_fields(fixture)
    # (no projection: FerretDB does not implement findAndModify's "fields")
    before = db[FIXTURES_STAGING].find_one_and_update(
        {"_id": fixture.id}, {"$set": {**fields, "refreshed_at": now}})
    if before is None:
        return None
    changed = {}
    old_kickoff = before.get("kickoff")
    if old_kickoff is not None and as_utc(old_kickoff) != fields["kickoff"]:
        changed["kickoff"] = (as_utc(old_kickoff), fields["kickoff"])
    if before.get("status") != fields["status"]:
        changed["status"] = (before.get("status"), fields["status"])
    return changed


@retry_when_locked
def mark_staging_refreshed(db: Database, fixture_ids: list[int], now: datetime) -> None:
    """Fixtures the API no longer returns are not asked again every run."""
    db[FIXTURES_STAGING].update_many({"_id": {"$in": fixture_ids}}, {"$set": {"refreshed_at": now}})
