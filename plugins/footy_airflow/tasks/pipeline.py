"""The listing tasks of goal_processing_pipeline: what each stage has pending right now.

The stage work itself is done by the very same tasks the stage DAGs map (process_fixture,
search_goal, download_goal, filter_goal), under the same claims.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from airflow.sdk import task

from footy.store.discovery import due_goal_ids
from footy.store.fixtures import fixtures_with_goal_changes
from footy_airflow.mongo import footy_db
from footy_airflow.params import requested_goal_ids


@task
def pending_fixtures() -> list[int]:
    """Fixtures whose goal changes are not processed yet."""
    return fixtures_with_goal_changes(footy_db())


@task(trigger_rule="all_done")
def goals_to_search(params: dict[str, Any] | None = None) -> list[str]:
    """The conf's goals, or every goal whose next search attempt is due."""
    requested = requested_goal_ids(params)
    return requested or due_goal_ids(footy_db(), datetime.now(UTC))
