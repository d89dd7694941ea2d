"""
### monitor_fixtures

One task: polls API-Football once for all active fixtures, stores the latest events and
applies the goal debounce (a goal is confirmed after 3 distinct polls, withdrawn after missing
from 3). Fixtures whose goals changed are announced on the `footy_fixture_goal_changes` Asset
for `process_goals`, by the poll itself (through the `footy_handoffs` alias): a poll without
goal changes emits nothing. Skipped, saying so, when no fixture is active.
Only fixtures whose status, score, events or goal tracking changed are written (one bulk
write; the match clock alone is not a change), so a quiet poll writes nothing.

Runs on `footy_active_fixtures`, which its watcher updates every `FOOTY_MONITOR_POLL_SECONDS`
(default 60, minimum 10) while there is an active fixture, and at once when one becomes
active: no active fixture, no run.

    airflow dags trigger monitor_fixtures
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from footy_airflow.assets import ACTIVE_FIXTURES
from footy_airflow.defaults import RUN_FAILED, dag_args
from footy_airflow.tasks.fixtures import poll_active_fixtures

with DAG(
    dag_id="monitor_fixtures",
    doc_md=__doc__,
    schedule=ACTIVE_FIXTURES,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    max_active_runs=1,
    default_args=dag_args("monitor_fixtures"),
    on_failure_callback=RUN_FAILED,  # footy_alerts connection, off by default
    tags=["footy", "fixtures"],
):
    poll_active_fixtures()
