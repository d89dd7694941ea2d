"""
### ingest_fixtures

Fetches the fixtures of the day and of the next `footy_fixture_window_days` (Variable,
default 2) from API-Football, one mapped task instance per day, and stores each fixture in
the bucket its status says (`fixtures_staging` / `fixtures_active` / `fixtures_completed`).
Runs daily at 00:05 UTC; re-running a day changes nothing. Listed fixtures are asked about
again every 15 minutes by `advance_fixtures` (moved kick-offs, postponements).

Tracked leagues and teams come from the Variable `footy_tracking`
(`{"league_ids": [39], "team_ids": [], "season": null}`); a manual run may override them:

    airflow dags trigger ingest_fixtures --conf '{"date": "2026-03-14", "league_ids": [39]}'
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from footy_airflow.defaults import RUN_FAILED, dag_args
from footy_airflow.tasks.fixtures import days_to_ingest, ingest_day

with DAG(
    dag_id="ingest_fixtures",
    doc_md=__doc__,
    schedule="5 0 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    max_active_runs=1,
    default_args=dag_args("ingest_fixtures"),
    on_failure_callback=RUN_FAILED,  # footy_alerts connection, off by default
    tags=["footy", "fixtures"],
    params={
        "date": Param(None, type=["null", "string"], format="date",
                      description="One day to ingest (YYYY-MM-DD); default: the run's day "
                                  "and the window after it"),
        "league_ids": Param([], type="array", items={"type": "integer"},
                            description="League ids; default: the footy_tracking Variable"),
        "team_ids": Param([], type="array", items={"type": "integer"},
                          description="Team ids; default: the footy_tracking Variable"),
    },
):
    ingest_day.expand(day=days_to_ingest())
