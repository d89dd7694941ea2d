"""The listing tasks of goal_processing_pipeline: what each stage has pending right now.

The stage work itself is done by the very same tasks the stage DAGs map (process_fixture,
search_goal, download_goal, filter_goal), under the same claims. The pipeline searches each
goal once, as the last attempt of its window, so the same run can finish it.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import task

from footy.store.discovery import unsearched_goal_ids
from footy.store.fixtures import fixtures_with_goal_changes
from footy_airflow.mongo import footy_db
from footy_airflow.params import requested_goal_ids


@task
def pending_fixtures(params: dict[str, Any] | None = None) -> list[int]:
    """Fixtures whose goal changes are not processed yet; with ``goal_ids``, only theirs."""
    pending = fixtures_with_goal_changes(footy_db())
    requested = requested_goal_ids(params)
    if not requested:
        return pending
    wanted = {int(goal_id.split("_", 1)[0]) for goal_id in requested}
    return [f for f in pending if f in wanted]


@task(trigger_rule="all_done")
def goals_to_search(params: dict[str, Any] | None = None) -> list[str]:
    """The conf's goals, or every confirmed goal whose search window is still open."""
    return requested_goal_ids(params) or unsearched_goal_ids(footy_db())
