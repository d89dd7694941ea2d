"""
### cleanup

Daily retention: removes fixtures completed more than `footy_retention_days` (Variable,
default 14) days ago, with their goals, clips, claims and stored objects; listed fixtures
that never went live once their kick-off is as old; and old API usage counters. Nothing in
flight is touched: a fixture with an unfinished goal or a live claim is kept, with the
reason in the log. The log lists what was removed and the bytes freed; the task is skipped
when there was nothing to remove. A dry run reports the same and removes nothing:

    airflow dags trigger cleanup --conf '{"dry_run": true}'
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG, Param

from footy_airflow.defaults import RUN_FAILED, dag_args
from footy_airflow.tasks.cleanup import remove_expired

with DAG(
    dag_id="cleanup",
    doc_md=__doc__,
    schedule="30 3 * * *",  # daily, away from the 00:05 ingest
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    max_active_runs=1,
    default_args=dag_args("cleanup"),
    on_failure_callback=RUN_FAILED,  # footy_alerts connection, off by default
    tags=["footy", "maintenance"],
    params={
        "dry_run": Param(False, type="boolean",
                         description="Report what would be removed, remove nothing"),
    },
):
    remove_expired()
