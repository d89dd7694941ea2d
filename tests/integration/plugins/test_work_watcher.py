"""The stage watchers: when WorkWaitingTrigger fires, against the real MongoDB-wire server."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from footy.store.claims import claim_goal
from footy.store.status import Stage
from footy_airflow.triggers import WaitingWork, WorkWaitingTrigger

pytestmark = pytest.mark.integration
POLL = 0.2


# ------------------------------------------------------------------- the firing rule (pure)


def test_fires_once_work_has_waited_the_grace_period():
    rule = WaitingWork(grace=60, refire=300)
    assert rule.observe(["g1"], now=0) == []
    assert rule.observe(["g1"], now=59) == []
    assert rule.observe(["g1"], now=60) == ["g1"]


def test_still_waiting_work_fires_again_only_after_refire():
    rule = WaitingWork(grace=0, refire=300)
    assert rule.observe(["g1"], now=0) == ["g1"]
    assert [rule.observe(["g1"], now=t) for t in range(10, 300, 10)] == [[]] * 29
    assert rule.observe(["g1"], now=300) == ["g1"]


def test_new_work_fires_at_once_with_what_still_waits():
    rule = WaitingWork(grace=0, refire=300)
    assert rule.observe(["g1"], now=0) == ["g1"]
    assert rule.observe(["g1", "g2"], now=5) == ["g1", "g2"]
    assert rule.observe(["g1", "g2"], now=10) == []


def test_work_picked_up_then_back_waits_a_new_grace_period():
    rule = WaitingWork(grace=30, refire=300)
    assert rule.observe(["g1"], now=0) == []
    assert rule.observe([], now=20) == []  # a run claimed it
    assert rule.observe(["g1"], now=40) == []  # due again (the next attempt): a fresh wait
    assert rule.observe(["g1"], now=70) == ["g1"]


def test_nothing_waiting_never_fires():
    rule = WaitingWork(grace=0, refire=1)
    assert all(rule.observe([], now=t) == [] for t in range(100))


# ------------------------------------------------------------- the trigger, on the database


def _trigger(db_name: str, kind: str, **kw) -> WorkWaitingTrigger:
    return WorkWaitingTrigger(kind=kind, db_name=db_name, poll_interval=POLL, **kw)


def test_serialize_round_trips(db_name):
    trigger = _trigger(db_name, "filter", grace_seconds=5.0, refire_seconds=9.0)
    classpath, kwargs = trigger.serialize()
    assert classpath == "footy_airflow.triggers.WorkWaitingTrigger"
    assert WorkWaitingTrigger(**kwargs).serialize() == (classpath, kwargs)


async def _events(trigger: WorkWaitingTrigger, seconds: float) -> list[dict]:
    out: list[dict] = []

    async def collect() -> None:
        async for event in trigger.run():
            out.append(event.payload)

    try:
        await asyncio.wait_for(collect(), timeout=seconds)
    except TimeoutError:
        pass
    return out


async def test_an_idle_database_fires_nothing(db, db_name):
    kinds = ("goal_changes", "search", "download", "filter", "active_fixtures")
    results = await asyncio.gather(
        *(_events(_trigger(db_name, k, grace_seconds=0.0, refire_seconds=0.5), 2.0) for k in kinds)
    )
    assert results == [[]] * len(kinds)


async def test_unclaimed_work_fires_once_per_refire_and_claimed_work_not_at_all(db, db_name):
    for goal in ("g1", "g2"):
        db.goals.insert_one({"_id": goal, "status": "confirmed"})
        db.videos.insert_one({"_id": f"{goal}:x:1", "goal_id": goal, "state": "stored"})
    assert claim_goal(db, Stage.FILTER, "g2", "another-run", timedelta(minutes=5))

    events = await _events(_trigger(db_name, "filter", grace_seconds=0.5, refire_seconds=60), 3)

    assert events == [{"kind": "filter", "ids": ["g1"], "waiting": 1}]


async def test_active_fixtures_tick_while_there_are_some(db, db_name):
    db.fixtures_active.insert_one({"_id": 7, "status": "1H"})
    events = await _events(
        _trigger(db_name, "active_fixtures", grace_seconds=0.0, refire_seconds=1.0), 2.5
    )
    # at once, then once a second (polled every 0.2 s: not on every poll)
    assert 2 <= len(events) <= 3 and all(e["ids"] == [7] for e in events), events
