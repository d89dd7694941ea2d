"""Tasks of publish_clips: pick the goals with something to publish, publish each."""

from __future__ import annotations

import logging
import socket
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from airflow.sdk import get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from footy.errors import ConfigError
from footy.pipeline import publish as publish_stage
from footy.publish.routing import PublishConfig
from footy.publish.send import send
from footy.store.discovery import goal_label
from footy_airflow.connections import apprise_urls, json_variable
from footy_airflow.mongo import footy_db
from footy_airflow.params import requested_goal_ids
from footy_airflow.storage import clip_storage
from footy_airflow.ui.links import name_goal_instance, records_goal

log = logging.getLogger(__name__)

PUBLISH_VARIABLE = "footy_publish"


def _config() -> PublishConfig:
    try:
        return PublishConfig.from_dict(json_variable(PUBLISH_VARIABLE, {}))
    except ConfigError as exc:
        raise AirflowFailException(str(exc)) from exc


@task
def goals_to_publish(params: dict[str, Any] | None = None,
                     triggering_asset_events: Any = None) -> list[str]:  # fmt: skip
    """The conf's goals, or those the triggering events name (new keepers, withdrawn goals);
    a manual run without goals takes every goal with a keeper or a withdrawal to announce."""
    if not _config().channels:
        raise AirflowSkipException(f"no channel configured (Variable {PUBLISH_VARIABLE})")
    manual = requested_goal_ids(params)
    if manual:
        return manual
    named = sorted({g for events in (triggering_asset_events or {}).values() for e in events
                    for g in ((e.extra or {}).get("goal_ids") or [])})  # fmt: skip
    goal_ids = named or publish_stage.goals_with_news(footy_db())
    if not goal_ids:
        raise AirflowSkipException("no goal has a keeper or a withdrawal to announce")
    return goal_ids


@task(map_index_template="{{ goal_label }}", multiple_outputs=False)
@records_goal
def publish_goal(goal_id: str, run_id: str | None = None) -> dict[str, Any]:
    """Publish one goal's keepers (or its correction) to the channels that take it; each
    (clip, channel) once, whatever reruns. Fails, after recording why, when a channel kept
    refusing: the next run tries that send again."""
    context = get_current_context()
    db = footy_db()
    name_goal_instance(context, goal_label(db, goal_id))
    cfg = _config()
    urls: dict[str, list[str]] = {}

    def deliver(conn_id: str, text: str, attachment: Path | None) -> None:
        if conn_id not in urls:
            urls[conn_id] = apprise_urls(conn_id)
        send(urls[conn_id], text, attachment=attachment, attempts=cfg.attempts)

    summary = publish_stage.publish_goal(
        db, goal_id, clip_storage(), cfg, deliver,
        owner=f"{run_id or 'manual'}@{socket.gethostname()}", now=datetime.now(UTC))
    log.info("%s: %s", summary["label"], summary.get("skipped") or summary["outcomes"])
    outcomes = summary["outcomes"].values()
    if summary.get("skipped") or not any(o != "skipped" for o in outcomes):
        raise AirflowSkipException(f"{summary['label']}: "
                                   f"{summary.get('skipped') or 'everything was published before'}")
    if "failed" in outcomes:
        failed = [k for k, o in summary["outcomes"].items() if o == "failed"]
        raise RuntimeError(f"{summary['label']}: not delivered: {failed} (recorded; the next "
                           "run tries again)")
    return summary
