"""
### process_goals

For every fixture with goal changes not yet processed: upsert its confirmed goals (each with
`processing_status`, all stages false) and withdraw disallowed ones. One mapped task
instance per fixture, named by fixture. New goal ids are announced on the
`footy_confirmed_goals` Asset for clip discovery, withdrawn ones on `footy_withdrawn_goals`
(filter_videos removes their stored clips).

Runs on `footy_fixture_goal_changes` events, when its watcher finds goal changes no run
picked up (`footy_goal_changes_waiting`), or by hand with the seed's conf (goals given by
hand are confirmed as given, without debounce):

    airflow dags trigger process_goals --conf '{"fixture_id": 1379344, "goal_events": [
      {"time": {"elapsed": 23, "extra": null}, "team": {"id": 50, "name": "Manchester City"},
       "player": {"id": 1100, "name": "E. Haaland"}, "assist": {"id": null, "name": null},
       "type": "Goal", "detail": "Normal Goal", "comments": null}]}'
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from footy_airflow.assets import FIXTURE_GOAL_CHANGES, GOAL_CHANGES_WAITING
from footy_airflow.defaults import RUN_FAILED, SENSOR_ARGS, dag_args
from footy_airflow.params import FIXTURE_ID_SCHEMA, GOAL_EVENT_SCHEMA
from footy_airflow.sensors import WorkSelectionSensor
from footy_airflow.tasks.fixtures import announce_goals, fixtures_to_process, process_fixture

with DAG(
    dag_id="process_goals",
    doc_md=__doc__,
    schedule=FIXTURE_GOAL_CHANGES | GOAL_CHANGES_WAITING,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    # A run waiting in its sensor must not hold back the next hand-off.
    max_active_runs=3,
    default_args=dag_args("process_goals"),
    on_failure_callback=RUN_FAILED,  # footy_alerts connection, off by default
    tags=["footy", "goals"],
    params={
        "fixture_id": Param(None, **FIXTURE_ID_SCHEMA,
                            description="Manual run: the fixture the goal_events belong to"),
        "goal_events": Param([], type="array", items=GOAL_EVENT_SCHEMA,
                             description="Manual run: goal events in API-Football's shape"),
    },
):
    # A hand-off, a watcher or a manual run's fixture_id: straight to the fixtures. A manual
    # run without one waits (deferred) for goal changes.
    fixture_ids = WorkSelectionSensor(
        task_id="select_fixtures",
        choose=fixtures_to_process,
        manual_keys=("fixture_id",),
        collection="fixtures_active",
        query={"goal_changes.pending": True},
        sort=[["_id", 1]],
        timeout=timedelta(seconds=60),
        **SENSOR_ARGS,
    )
    processed = process_fixture.expand(fixture_id=fixture_ids.output)
    announce_goals(processed)
