"""From a goal's task instance to the goal's page: each per-goal task records which goal it
worked on (an XCom), and a global operator extra link turns that into the page's address."""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import quote

from airflow.sdk import BaseOperatorLink

from footy_airflow.params import GOAL_ID_PATTERN

GOAL_XCOM_KEY = "footy_goal_id"
NAV_ROUTE = "goals"  # the Goals entry: /plugin/goals/... shows the page inside Airflow's UI
APP_PREFIX = "/footy"


def goal_page_path(goal_id: str) -> str:
    """The goal's page inside Airflow's UI (the nav entry's frame follows this path)."""
    return f"/plugin/{NAV_ROUTE}{APP_PREFIX}/goals/{quote(goal_id, safe='')}"


def name_goal_instance(context: Any, goal_id: str, label: str) -> None:
    """Name a per-goal task instance after its goal (the grid's map index) and record the goal,
    so that its "Goal page" link can find it."""
    context["goal_label"] = label
    context["ti"].xcom_push(key=GOAL_XCOM_KEY, value=goal_id)


class GoalPageLink(BaseOperatorLink):
    """"Goal page" on every task instance that recorded a goal; empty (hidden) elsewhere.
    Runs in the API server, which reads the recorded goal from Airflow's XCom table."""

    name = "Goal page"

    def get_link(self, operator: Any, *, ti_key: Any) -> str:
        if getattr(ti_key, "map_index", -1) < 0:
            return ""
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session

        with create_session() as session:
            row = session.execute(
                XComModel.get_many(key=GOAL_XCOM_KEY, run_id=ti_key.run_id, dag_ids=ti_key.dag_id,
                                   task_ids=ti_key.task_id, map_indexes=ti_key.map_index)
                .with_only_columns(XComModel.value)
            ).first()  # fmt: skip
        return goal_page_path(goal_id) if (goal_id := recorded_goal(row)) else ""


def recorded_goal(row: Any) -> str | None:
    """The goal id of an XCom row, read as plain JSON (never decoded into objects) and only
    when it has a goal id's shape."""
    if not row or row[0] is None:
        return None
    value = row[0]
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError:
            pass
    return value if isinstance(value, str) and re.fullmatch(GOAL_ID_PATTERN, value) else None
