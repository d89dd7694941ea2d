"""Failure notifications: an operator hears about a failing footy DAG run.

Off by default. Define the Apprise connection ``footy_alerts`` (Airflow's Apprise provider:
Discord, Slack, Telegram, e-mail, a JSON webhook and the rest Apprise speaks) and every footy
DAG run that fails sends one message naming the DAG, the run, why, and where to look:

    airflow connections add footy_alerts --conn-type apprise \\
        --conn-extra '{"config": {"path": "discord://webhook_id/webhook_token"}}'
"""

from __future__ import annotations

from typing import Any

from airflow.providers.apprise.notifications.apprise import AppriseNotifier
from airflow.sdk import BaseHook
from airflow.sdk.exceptions import AirflowNotFoundException

ALERTS_CONN_ID = "footy_alerts"


def alerts_configured(conn_id: str = ALERTS_CONN_ID) -> bool:
    try:
        BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return False
    return True


class RunFailedNotifier(AppriseNotifier):
    """``on_failure_callback`` of every footy DAG: one message per failed run, when the
    ``footy_alerts`` connection exists; nothing at all otherwise. The message is built in
    Python from the callback's context (no templates: the context's DAG is not always one
    that renders them)."""

    template_fields = ()

    def render_template_fields(self, context: Any, jinja_env: Any = None) -> None:
        pass

    def notify(self, context: Any) -> None:
        if not alerts_configured(self.apprise_conn_id):
            return
        dag_id = getattr(context.get("dag"), "dag_id", "?")
        ti = context.get("ti")
        task = f"; failed task: {ti.task_id}" if ti is not None else ""
        self.title = f"footy: {dag_id} failed"
        self.body = (f"{dag_id} run {context.get('run_id', '?')} failed "
                     f"({context.get('reason', 'failed')}){task}. The task's log says why.")
        super().notify(context)


def run_failed_notifier() -> RunFailedNotifier:
    return RunFailedNotifier(apprise_conn_id=ALERTS_CONN_ID, body="", title="")
