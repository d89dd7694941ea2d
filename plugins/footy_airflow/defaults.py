"""Defaults every footy DAG shares: ownership, retries, the conf check, sensor behaviour."""

from __future__ import annotations

import os
from datetime import timedelta

from footy_airflow.notify import run_failed_notifier
from footy_airflow.params import refuse_unknown_conf

DEFAULT_ARGS = {
    "owner": "footy",
    # a conf key the DAG does not declare fails the run's first task, naming the key
    "pre_execute": refuse_unknown_conf,
    "retries": 2,
    "retry_delay": timedelta(seconds=20),
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=5),
}

# Who gets an executor slot first when tasks queue (priority_weight, weight_rule absolute):
# the live loop, then the stages nearest a kept clip. Airflow's default rule (weight by the
# number of downstream tasks) does the opposite: it starts the first tasks of new runs ahead
# of the last stage's work, so under load the goals already in flight wait behind new ones.
PRIORITY = {
    "monitor_fixtures": 9, "advance_fixtures": 8, "process_goals": 7,
    "publish_clips": 6, "filter_videos": 5, "download_videos": 4, "scrape_twitter": 3,
    "goal_processing_pipeline": 3, "ingest_fixtures": 2, "cleanup": 1,
}


def dag_args(dag_id: str) -> dict:
    """``default_args`` of a footy DAG: the shared defaults and the DAG's priority."""
    return {**DEFAULT_ARGS, "weight_rule": "absolute", "priority_weight": PRIORITY[dag_id]}


# Every footy DAG's on_failure_callback: one message per failed run, when configured.
RUN_FAILED = run_failed_notifier()

# Sensors: retries >= 1 because of Airflow 3.3's deferred-task "state mismatch" race; on
# timeout they skip (nothing to do this run) instead of failing the run.
SENSOR_ARGS = {
    "retries": 2,
    "retry_delay": timedelta(seconds=10),
    "soft_fail": True,
    "poke_interval": 5,
    "trigger_poll_interval": 5.0,
}


def poll_seconds() -> int:
    """monitor_fixtures cadence (environment, read at parse time: no database access)."""
    return max(10, int(os.environ.get("FOOTY_MONITOR_POLL_SECONDS", "60")))
