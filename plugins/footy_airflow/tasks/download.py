"""Tasks of download_videos: which goals to visit, one download run per goal, the announcement."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from footy.pipeline import download as download_stage
from footy.store import selection
from footy.store.status import Stage
from footy_airflow.assets import STORED_CLIPS
from footy_airflow.mongo import footy_db
from footy_airflow.params import requested_goal_ids
from footy_airflow.storage import clip_storage
from footy_airflow.ui.links import name_goal_instance, records_goal

log = logging.getLogger(__name__)

SELECT_TASK_ID = "select_goals"
DOWNLOAD_POOL = "footy_downloads"
# Celery workers serving this queue fetch clips (network and disk heavy); the LocalExecutor
# ignores it.
DOWNLOAD_QUEUE = "downloads"


def _now() -> datetime:
    return datetime.now(UTC)


def goals_to_download(context: Any, found: list[Any] | None = None) -> list[str]:
    """The conf's goals, or every confirmed goal with due candidates or ready to finish that
    no other run has mapped; marked as this run's (``footy.store.selection``).

    Chosen whether or not candidates turned up: a searched goal without any candidate still
    has to be marked ``videos_downloaded``.
    """
    manual = requested_goal_ids(context.get("params"))
    db, now = footy_db(), _now()
    goal_ids = download_stage.select_goals(db, now, manual or None)
    if not manual:
        goal_ids = selection.unselected(db, Stage.DOWNLOAD, goal_ids, now)
        selection.select(db, Stage.DOWNLOAD, goal_ids, context.get("run_id") or "", now)
    log.info("%d goal(s) to visit%s", len(goal_ids), " (manual)" if manual else "")
    if not goal_ids:
        raise AirflowSkipException("no goal has download work")
    return goal_ids


@task(task_id=SELECT_TASK_ID, trigger_rule="none_failed_min_one_success")
def select_goals(params: dict[str, Any] | None = None, run_id: str | None = None) -> list[str]:
    """``goals_to_download`` as a task of its own (goal_processing_pipeline)."""
    return goals_to_download({"params": params, "run_id": run_id})


@task(map_index_template="{{ goal_label }}", pool=DOWNLOAD_POOL, queue=DOWNLOAD_QUEUE,
      execution_timeout=timedelta(minutes=30), multiple_outputs=False)
@records_goal
def download_goal(
    goal_id: str, run_id: str | None = None, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Download one goal's due clips (a few at a time); failed clips never fail the task."""
    context = get_current_context()
    name_goal_instance(context, goal_id)  # the label comes with the summary
    owner = f"{run_id or 'manual'}@{socket.gethostname()}"
    db = footy_db()
    try:
        summary = download_stage.download_goal(
            db, goal_id, clip_storage(), owner=owner, now=_now(),
            force=bool((params or {}).get("force")),
        )  # fmt: skip
    finally:
        selection.release(db, Stage.DOWNLOAD, goal_id, run_id or "")
    name_goal_instance(context, summary["label"])
    if summary.get("skipped"):
        raise AirflowSkipException(f"{summary['label']}: {summary['skipped']}")
    log.info("%s: stored %d, failed %d, retry later %d, downloads finished: %s",
             summary["label"], len(summary["stored"]), len(summary["failed"]),
             len(summary["retry"]), summary["finished"])  # fmt: skip
    if not (summary["stored"] or summary["failed"] or summary["retry"] or summary["finished"]
            or summary.get("reset")):
        # the grid tells the truth: a visit that changed nothing is not a success
        raise AirflowSkipException(f"{summary['label']}: no clip due and the search goes on")
    return summary


@task(outlets=[STORED_CLIPS], trigger_rule="none_failed_min_one_success")
def announce_stored_clips(results: list[dict[str, Any]] | None) -> list[str]:
    """Goals with newly stored clips or newly finished downloads, for filter_videos."""
    goal_ids = sorted({r["goal_id"] for r in results or []
                       if r and (r.get("stored") or r.get("finished"))})  # fmt: skip
    if not goal_ids:
        raise AirflowSkipException("no newly stored clips to announce")
    get_current_context()["outlet_events"][STORED_CLIPS].extra = {"goal_ids": goal_ids}
    return goal_ids
