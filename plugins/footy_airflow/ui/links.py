"""From a goal's task instance to the goal's page: each per-goal task instance leaves which
goal it worked on in one XCom, and a global operator extra link turns that into the page's
address.

One XCom per instance, because XCom writes are the Execution API's most expensive calls: a
finished instance's summary (its return value) carries ``goal_id``; an instance that skipped
or failed returns nothing, so :func:`records_goal` writes the goal id alone on its way out.
"""

from __future__ import annotations

import functools
import json
import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

from footy_airflow.params import GOAL_ID_PATTERN

log = logging.getLogger(__name__)

GOAL_XCOM_KEY = "footy_goal_id"
SUMMARY_XCOM_KEY = "return_value"  # Airflow's key for a task's return value
NAV_ROUTE = "goals"  # the Goals entry: /plugin/goals/... shows the page inside Airflow's UI
APP_PREFIX = "/footy"


def goal_page_path(goal_id: str) -> str:
    """The goal's page inside Airflow's UI (the nav entry's frame follows this path)."""
    return f"/plugin/{NAV_ROUTE}{APP_PREFIX}/goals/{quote(goal_id, safe='')}"


def name_goal_instance(context: Any, label: str) -> None:
    """Name a per-goal task instance after its goal (the grid's map index)."""
    context["goal_label"] = label


TaskFunction = TypeVar("TaskFunction", bound=Callable[..., Any])


def records_goal(task_function: TaskFunction) -> TaskFunction:
    """For a per-goal task whose first argument is the goal id and whose summary has
    ``goal_id``: when it ends without a summary (skipped or failed), record the goal id, so
    that the instance's "Goal page" link still finds it."""

    @functools.wraps(task_function)
    def run(goal_id: str, *args: Any, **kwargs: Any) -> Any:
        try:
            return task_function(goal_id, *args, **kwargs)
        except BaseException:
            from airflow.sdk import get_current_context

            try:
                get_current_context()["ti"].xcom_push(key=GOAL_XCOM_KEY, value=goal_id)
            except Exception:  # the link is a convenience: never hide the task's own error
                log.warning("could not record goal %s for its Goal page link", goal_id,
                            exc_info=True)  # fmt: skip
            raise

    return run  # type: ignore[return-value]


class GoalPageLink(BaseOperatorLink):
    """"Goal page" on every task instance that recorded a goal; empty (hidden) elsewhere.
    Runs in the API server, which reads the recorded goal (or the summary's ``goal_id``) from
    Airflow's XCom table."""

    name = "Goal page"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        if getattr(ti_key, "map_index", -1) < 0:
            return ""
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            rows = session.execute(
                XComModel.get_many(run_id=ti_key.run_id, dag_ids=ti_key.dag_id,
                                   task_ids=ti_key.task_id, map_indexes=ti_key.map_index)
                .where(XComModel.key.in_([GOAL_XCOM_KEY, SUMMARY_XCOM_KEY]))
                .with_only_columns(XComModel.key, XComModel.value)
            ).all()  # fmt: skip
        goal_id = next(filter(None, (recorded_goal(key, value) for key, value in rows)), None)
        return goal_page_path(goal_id) if goal_id else ""


def recorded_goal(key: str, value: Any) -> str | None:
    """The goal id in an XCom value: the recorded goal id itself, or a summary's ``goal_id``.
    Read as plain JSON (never decoded into objects); only a value with a goal id's shape."""
    if value is None:
        return None
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    if key == SUMMARY_XCOM_KEY:
        value = value.get("goal_id") if isinstance(value, dict) else None
    return value if isinstance(value, str) and re.fullmatch(GOAL_ID_PATTERN, value) else None
