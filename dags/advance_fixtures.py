"""
### advance_fixtures

Moves fixtures between buckets: `staging -> active` shortly before kick-off (Variable
`footy_activation_lead_minutes`, default 15) and `active -> completed` once the match is over
and every goal of it is fully processed. Postponed, cancelled, abandoned and awarded matches
leave the active set at once. A move inserts into the target before deleting from the
source, and each run first repairs any copy an interrupted move left behind.

First, listed fixtures not asked about for 15 minutes are fetched again (`ids=` batches of
20, soonest kick-off first, at most a tenth of the day's API requests left): a kick-off moved
after ingest or a postponement is acted on at once. The refresh is skipped in the minutes
when nothing is due.

    airflow dags trigger advance_fixtures
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from footy_airflow.defaults import RUN_FAILED, dag_args
from footy_airflow.tasks.fixtures import advance_buckets, refresh_staging_fixtures

with DAG(
    dag_id="advance_fixtures",
    doc_md=__doc__,
    schedule="* * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    max_active_runs=1,
    default_args=dag_args("advance_fixtures"),
    on_failure_callback=RUN_FAILED,  # footy_alerts connection, off by default
    tags=["footy", "fixtures"],
):
    refresh_staging_fixtures() >> advance_buckets.override(trigger_rule="all_done")()
