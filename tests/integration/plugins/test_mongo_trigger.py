"""MongoQueryTrigger under asyncio against the real MongoDB-wire server."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pymongo import MongoClient

from footy_airflow.triggers import NOW, MongoQueryTrigger, resolve_query

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[3]
POLL = 0.2


def _trigger(db_name: str, query=None, **kw) -> MongoQueryTrigger:
    return MongoQueryTrigger(
        collection="goals", query=query or {"ready": True}, db_name=db_name,
        poll_interval=POLL, **kw,
    )


def test_serialize_round_trips(db_name):
    trigger = _trigger(db_name, {"due": {"$lte": NOW}}, limit=7, sort=[["_id", 1]])
    classpath, kwargs = trigger.serialize()
    assert classpath == "footy_airflow.triggers.MongoQueryTrigger"
    module, _, name = classpath.rpartition(".")
    clone = getattr(__import__(module, fromlist=[name]), name)(**kwargs)
    assert clone.serialize() == (classpath, kwargs)


def test_now_placeholder_is_resolved_at_each_check():
    now = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
    query = {"$or": [{"next": {"$lte": NOW}}, {"a": [NOW, 1]}]}
    assert resolve_query(query, now) == {"$or": [{"next": {"$lte": now}}, {"a": [now, 1]}]}
    assert query["$or"][0]["next"]["$lte"] == NOW, "the stored query is not mutated"


async def test_fires_within_one_poll_after_a_matching_document_appears(db, db_name):
    db.goals.insert_one({"_id": "not-yet", "ready": False})
    run = _trigger(db_name).run().__anext__()
    task = asyncio.ensure_future(run)
    await asyncio.sleep(POLL * 5)
    assert not task.done(), "nothing matches: the trigger keeps waiting"

    db.goals.insert_many([{"_id": "g1", "ready": True}, {"_id": "g2", "ready": True}])
    inserted_at = time.monotonic()
    event = await asyncio.wait_for(task, timeout=10)
    latency = time.monotonic() - inserted_at
    assert event.payload == {"status": "matched", "ids": ["g1", "g2"]}
    assert latency < POLL + 1.0, f"fired {latency:.2f}s after insert"


async def test_limit_bounds_the_ids(db, db_name):
    db.goals.insert_many([{"_id": f"g{i:02d}", "ready": True} for i in range(12)])
    event = await asyncio.wait_for(
        _trigger(db_name, limit=5, sort=[["_id", 1]]).run().__anext__(), timeout=10
    )
    assert event.payload["ids"] == ["g00", "g01", "g02", "g03", "g04"]


async def test_relative_time_query_fires_when_due(db, db_name):
    db.goals.insert_one({"_id": "later", "due": datetime.now(UTC) + timedelta(seconds=1.5)})
    started = time.monotonic()
    event = await asyncio.wait_for(
        _trigger(db_name, {"due": {"$lte": NOW}}).run().__anext__(), timeout=10
    )
    assert event.payload["ids"] == ["later"]
    assert time.monotonic() - started >= 1.0


async def test_keeps_waiting_across_a_database_restart(private_ferretdb, monkeypatch):
    server = private_ferretdb()
    monkeypatch.setenv("AIRFLOW_CONN_MONGO_DEFAULT", server.uri.replace("mongodb://", "mongo://"))
    task = asyncio.ensure_future(_trigger("restart").run().__anext__())
    await asyncio.sleep(POLL * 4)
    server.stop()
    await asyncio.sleep(POLL * 6)
    assert not task.done(), "a database outage is waited out, not an error"

    server.start()
    MongoClient(server.uri).restart.goals.insert_one({"_id": "after-restart", "ready": True})
    event = await asyncio.wait_for(task, timeout=30)
    assert event.payload["ids"] == ["after-restart"]
