"""Tasks of filter_videos: which goals to visit, one filtering run per goal, the announcement."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from footy.pipeline import filter as filter_stage
from footy.store import Stage, claim_goal, mark_stage_failed, selection
from footy.store.discovery import goal_label
from footy.store.heartbeat import LEASE, ClaimHeartbeat
from footy_airflow.assets import KEPT_CLIPS
from footy_airflow.connections import json_variable
from footy_airflow.mongo import footy_db
from footy_airflow.params import requested_goal_ids
from footy_airflow.storage import clip_storage
from footy_airflow.ui.links import name_goal_instance, records_goal

log = logging.getLogger(__name__)

FILTER_VARIABLE = "footy_filter"
MAX_GOALS_PER_RUN = 200  # well under [core] max_map_length; the rest come next run


def _now() -> datetime:
    return datetime.now(UTC)


def goals_to_filter(context: Any, found: list[Any] | None = None) -> list[str]:
    """Distinct goals to visit: the conf's, or every goal with filtering work that no other
    run has mapped, marked as this run's (``footy.store.selection``).

    Beyond the goals of stored clips, this also picks up goals whose downloads ended with
    nothing stored (their completion) and withdrawn goals with clips to remove.
    """
    manual = requested_goal_ids(context.get("params"))
    if manual:
        return manual
    db, now = footy_db(), _now()
    goal_ids = selection.unselected(
        db, Stage.FILTER, filter_stage.goals_with_work(db, MAX_GOALS_PER_RUN), now)
    selection.select(db, Stage.FILTER, goal_ids, context.get("run_id") or "", now)
    woken = ("an Asset event" if found is None
             else "stored clips" if found else "nothing in time (a manual run)")
    log.info("woken by %s; %d goal(s) to visit", woken, len(goal_ids))
    if not goal_ids:
        raise AirflowSkipException("no goal has filtering work")
    return goal_ids


@task(trigger_rule="none_failed_min_one_success")
def collect_goals(params: dict[str, Any] | None = None, run_id: str | None = None) -> list[str]:
    """``goals_to_filter`` as a task of its own (goal_processing_pipeline)."""
    return goals_to_filter({"params": params, "run_id": run_id})


@task(map_index_template="{{ goal_label }}", execution_timeout=timedelta(minutes=15),
      multiple_outputs=False)
@records_goal
def filter_goal(goal_id: str, run_id: str | None = None) -> dict[str, Any]:
    """One filtering run for one goal; skipped, with the reason in its log, when there is
    nothing to do or another run holds the goal."""
    context = get_current_context()
    db = footy_db()
    try:
        return _filter_goal(db, context, goal_id, run_id)
    finally:
        selection.release(db, Stage.FILTER, goal_id, run_id or "")


def _filter_goal(db: Any, context: Any, goal_id: str, run_id: str | None) -> dict[str, Any]:
    label = goal_label(db, goal_id)
    name_goal_instance(context, label)
    if not filter_stage.has_work(db, goal_id):
        raise AirflowSkipException(f"{label}: nothing to filter")
    owner = f"{run_id or 'manual'}@{socket.gethostname()}"
    claim = claim_goal(db, Stage.FILTER, goal_id, owner, LEASE, now=_now())
    if claim is None:
        raise AirflowSkipException(f"{label}: another run holds the goal")
    try:
        cfg = filter_stage.FilterConfig.from_dict(json_variable(FILTER_VARIABLE, {}))
        with ClaimHeartbeat(db, claim, LEASE):
            summary = filter_stage.filter_goal(db, clip_storage(), goal_id, claim, _now(), cfg)
    except Exception as exc:
        mark_stage_failed(db, claim, exc)
        raise
    log.info(
        "%s: kept %s, duplicates %s, replaced %s, failed %s, removed %s, completed %s",
        label, summary["kept"], summary["duplicates"], summary["replaced"],
        summary["failed"], summary["removed"], summary["completed"],
    )  # fmt: skip
    return summary


@task(outlets=[KEPT_CLIPS], trigger_rule="none_failed_min_one_success")
def announce_kept_clips(results: list[dict[str, Any]] | None) -> list[str]:
    goal_ids = sorted({r["goal_id"] for r in results or [] if r and r.get("kept")})
    if not goal_ids:
        raise AirflowSkipException("no newly kept clips to announce")
    get_current_context()["outlet_events"][KEPT_CLIPS].extra = {"goal_ids": goal_ids}
    return goal_ids
