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
