"""MongoQuerySensor: returns ids at once when they match, defers to the trigger otherwise."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from airflow.sdk.exceptions import TaskDeferred

from footy_airflow.sensors import MongoQuerySensor
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
