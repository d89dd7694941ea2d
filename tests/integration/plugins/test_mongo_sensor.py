"""MongoQuerySensor: returns ids at once when they match, defers to the trigger otherwise;
WorkSelectionSensor: a stage run's first task, waiting only when the run brings no work."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from airflow.sdk.exceptions import TaskDeferred

from footy_airflow.sensors import MongoQuerySensor, WorkSelectionSensor
from footy_airflow.triggers import MongoQueryTrigger

pytestmark = pytest.mark.integration


def _sensor(db_name: str, **kw) -> MongoQuerySensor:
    return MongoQuerySensor(
        task_id="wait_for_goals", collection="goals", query={"ready": True},
        db_name=db_name, timeout=timedelta(minutes=3), trigger_poll_interval=0.2, **kw,
    )


def test_returns_matching_ids_without_deferring(db, db_name):
    db.goals.insert_many([{"_id": "b", "ready": True}, {"_id": "a", "ready": True}])
    assert _sensor(db_name, sort=[["_id", 1]]).execute(context={}) == ["a", "b"]


def test_defers_with_the_same_query_and_its_timeout_when_nothing_matches(db, db_name):
    db.goals.insert_one({"_id": "a", "ready": False})
    sensor = _sensor(db_name, limit=3)
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context={})
    trigger = deferred.value.trigger
    assert isinstance(trigger, MongoQueryTrigger)
    kwargs = trigger.serialize()[1]
    timeout_at = datetime.fromisoformat(kwargs.pop("timeout_at"))
    assert kwargs == {
        "collection": "goals", "query": {"ready": True}, "db_name": db_name,
        "conn_id": "mongo_default", "limit": 3, "sort": None, "poll_interval": 0.2,
    }
    assert abs((timeout_at - datetime.now(UTC)) - timedelta(minutes=3)) < timedelta(seconds=10)
    assert deferred.value.timeout == timedelta(minutes=3)
    assert deferred.value.method_name == "execute_complete"

    # The deferred half: the trigger fires once a document matches; the sensor returns ids.
    db.goals.update_one({"_id": "a"}, {"$set": {"ready": True}})
    event = asyncio.run(asyncio.wait_for(trigger.run().__anext__(), timeout=10))
    assert sensor.execute_complete(context={}, event=event.payload) == ["a"]


def test_poke_mode_reports_done_with_ids(db, db_name):
    sensor = _sensor(db_name, deferrable=False)
    assert sensor.poke(context={}).is_done is False
    db.goals.insert_one({"_id": "x", "ready": True})
    result = sensor.poke(context={})
    assert result.is_done is True and result.xcom_value == ["x"]


def test_trigger_deadline_becomes_a_sensor_timeout(db, db_name):
    from airflow.sdk.exceptions import AirflowSensorTimeout

    sensor = _sensor(db_name)
    sensor.timeout = 0.5
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context={})
    event = asyncio.run(asyncio.wait_for(deferred.value.trigger.run().__anext__(), timeout=10))
    assert event.payload["status"] == "timeout"
    with pytest.raises(AirflowSensorTimeout):
        sensor.execute_complete(context={}, event=event.payload)


def _selector(db_name: str, **kw) -> tuple[WorkSelectionSensor, list]:
    calls: list = []

    def choose(context, found):
        calls.append(found)
        return [f"chosen:{g}" for g in (found or context["params"].get("goal_ids") or ["all"])]

    sensor = WorkSelectionSensor(
        task_id="select_goals", choose=choose, collection="goals", query={"ready": True},
        db_name=db_name, timeout=timedelta(minutes=3), trigger_poll_interval=0.2, **kw,
    )
    return sensor, calls


def test_a_run_that_brings_its_work_chooses_without_waiting(db, db_name):
    db.goals.insert_one({"_id": "a", "ready": False})  # nothing matches: waiting would defer
    sensor, calls = _selector(db_name)
    event_run = {"params": {}, "triggering_asset_events": {"footy_clip_candidates": ["event"]}}
    assert sensor.execute(context=event_run) == ["chosen:all"]
    conf_run = {"params": {"goal_ids": ["g1"]}, "triggering_asset_events": {}}
    assert sensor.execute(context=conf_run) == ["chosen:g1"]
    assert calls == [None, None]
    # a manual run without goals waits for the query
    with pytest.raises(TaskDeferred):
        sensor.execute(context={"params": {}, "triggering_asset_events": {}})


def test_wait_on_events_waits_and_hands_the_matches_to_the_choice(db, db_name):
    sensor, calls = _selector(db_name, wait_on_events=True)
    event_run = {"params": {}, "triggering_asset_events": {"footy_searches_pending": ["e"]}}
    with pytest.raises(TaskDeferred) as deferred:
        sensor.execute(context=event_run)
    db.goals.insert_one({"_id": "a", "ready": True})
    event = asyncio.run(asyncio.wait_for(deferred.value.trigger.run().__anext__(), timeout=10))
    assert sensor.execute_complete(context=event_run, event=event.payload) == ["chosen:a"]
    assert sensor.execute(context=event_run) == ["chosen:a"]  # matches now: no wait
    assert calls == [["a"], ["a"]]


def test_on_timeout_it_skips_or_chooses_anyway(db, db_name):
    from airflow.sdk.exceptions import AirflowSensorTimeout

    timeout = {"status": "timeout"}
    manual = {"params": {}, "triggering_asset_events": {}}
    skipping, calls = _selector(db_name)
    with pytest.raises(AirflowSensorTimeout):  # soft_fail makes it a skip
        skipping.execute_complete(context=manual, event=timeout)
    assert calls == []
    choosing, calls = _selector(db_name, choose_on_timeout=True)
    assert choosing.execute_complete(context=manual, event=timeout) == ["chosen:all"]
    assert calls == [[]]
