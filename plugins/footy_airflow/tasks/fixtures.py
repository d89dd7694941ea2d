"""Tasks of the fixture half: ingest, advance, monitor, process goals."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import get_current_context, task
from airflow.sdk.exceptions import AirflowSkipException

from footy.api_budget import budget_from_env
from footy.errors import ConfigError
from footy.pipeline import fixtures as fixture_stage
from footy.pipeline import goals as goal_stage
from footy.store.fixtures import fixtures_with_goal_changes
from footy_airflow.assets import (
    CONFIRMED_GOALS,
    FIXTURE_GOAL_CHANGES,
    HANDOFFS,
    WITHDRAWN_GOALS,
    hand_off,
)
from footy_airflow.connections import api_football_client, json_variable
from footy_airflow.defaults import poll_seconds
from footy_airflow.mongo import footy_db

log = logging.getLogger(__name__)

TRACKING_VARIABLE = "footy_tracking"
LEAD_VARIABLE = "footy_activation_lead_minutes"
DEFAULT_LEAD_MINUTES = 15
WINDOW_VARIABLE = "footy_fixture_window_days"
DEFAULT_WINDOW_DAYS = 2


def _now() -> datetime:
    return datetime.now(UTC)


@task
def days_to_ingest(params: dict[str, Any] | None = None) -> list[str]:
    """The conf's ``date``, or the run's day and the next ``footy_fixture_window_days``
    (default 2): kick-offs are known days ahead, and a match moved into the window is found."""
    day = (params or {}).get("date")
    if day:
        return [day]
    window = int(json_variable(WINDOW_VARIABLE, DEFAULT_WINDOW_DAYS))
    if window < 0:
        raise ConfigError(f"{WINDOW_VARIABLE} must be 0 or more days, not {window}")
    first = get_current_context()["logical_date"].date()
    return [(first + timedelta(days=n)).isoformat() for n in range(window + 1)]


@task(map_index_template="{{ day }}", multiple_outputs=False)
def ingest_day(day: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Fixtures of one day into their buckets. Conf overrides the tracked leagues/teams."""
    params = params or {}
    tracking = fixture_stage.Tracking.from_dict(json_variable(TRACKING_VARIABLE, {}))
    if params.get("league_ids") or params.get("team_ids"):
        tracking.league_ids = list(params.get("league_ids") or [])
        tracking.team_ids = list(params.get("team_ids") or [])
    summary = fixture_stage.ingest(footy_db(), api_football_client(), day, tracking, _now())
    log.info("ingested %s: %s", day, {k: v for k, v in summary.items() if k != "errors"})
    return summary


@task(multiple_outputs=False)
def refresh_staging_fixtures() -> dict[str, Any]:
    """Listed fixtures not asked about for 15 minutes: moved kick-offs, postponements."""
    summary = fixture_stage.refresh_staging(footy_db(), api_football_client(), _now(),
                                            budget=budget_from_env(dict(os.environ)))  # fmt: skip
    if not summary["due"]:
        raise AirflowSkipException("no listed fixture is due for a refresh (every 15 minutes)")
    for fixture_id, changed in summary["changed"].items():
        log.info("fixture %s changed since it was listed: %s", fixture_id, changed)
    log.info("refreshed %d listed fixture(s) with %d request(s); %d changed",
             summary["due"], summary["requests"], len(summary["changed"]))  # fmt: skip
    return summary


@task(multiple_outputs=False)
def advance_buckets() -> dict[str, list[int]]:
    lead = timedelta(minutes=float(json_variable(LEAD_VARIABLE, DEFAULT_LEAD_MINUTES)))
    moved = fixture_stage.advance(footy_db(), _now(), lead=lead)
    if not any(moved.values()):
        raise AirflowSkipException("no fixture is due to move between buckets")
    log.info("moves: %s", {outcome: ids for outcome, ids in moved.items() if ids})
    return moved


@task(outlets=[HANDOFFS])
def poll_active_fixtures(run_id: str | None = None) -> list[int]:
    """One batched API poll of all active fixtures; hands the fixtures whose goals changed to
    process_goals and returns them."""
    summary = fixture_stage.monitor(
        footy_db(), api_football_client(), run_id or "", _now(),
        budget=budget_from_env(dict(os.environ)), base_interval=timedelta(seconds=poll_seconds()),
    )  # fmt: skip
    if not summary["polled"] and not summary["requests"]:
        raise AirflowSkipException("no active fixture to poll")
    log.info("polled %d fixture(s) with %d request(s)%s, %d written; goal changes in %s; "
             "%d error(s); next poll in %.0fs (%s)", summary["polled"], summary["requests"],
             " (live=all)" if summary.get("live_all") else "", summary["writes"],
             summary["changed"], len(summary["errors"]), summary.get("next_poll_in_s", 0),
             summary.get("budget", ""))  # fmt: skip
    if summary["changed"]:
        hand_off(FIXTURE_GOAL_CHANGES, {"fixture_ids": summary["changed"]})
    return summary["changed"]


def fixtures_to_process(context: Any, found: list[Any] | None = None) -> list[int]:
    """A manual run's fixture; otherwise the fixtures with goal changes to process."""
    manual = (context.get("params") or {}).get("fixture_id")
    if manual:
        return [int(manual)]
    fixture_ids = found if found is not None else fixtures_with_goal_changes(footy_db())
    if not fixture_ids:
        raise AirflowSkipException("no fixture has goal changes to process")
    return [int(f) for f in fixture_ids]


@task(map_index_template="{{ fixture_label }}", multiple_outputs=False)
def process_fixture(fixture_id: int, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Upsert one fixture's confirmed goals and withdraw disallowed ones; in a manual run, the
    goals of the conf's ``goal_events`` as given (the seed's manual run, no debounce)."""
    context = get_current_context()
    context["fixture_label"] = str(fixture_id)  # type: ignore[typeddict-unknown-key]
    params = params or {}
    if params.get("fixture_id"):
        result = goal_stage.process_manual_goals(
            footy_db(), int(fixture_id), list(params.get("goal_events") or []), _now())
    else:
        result = goal_stage.process_fixture_goals(footy_db(), int(fixture_id), _now())
    context["fixture_label"] = result["label"] or str(fixture_id)  # type: ignore[typeddict-unknown-key]
    log.info("%s: new %s, withdrawn %s", result["label"], result["new_goals"],
             result["withdrawn_goals"])
    return result


@task(outlets=[HANDOFFS], trigger_rule="none_failed_min_one_success", multiple_outputs=False)
def announce_goals(results: list[dict[str, Any]] | None) -> dict[str, list[str]]:
    """New goals to scrape_twitter, withdrawn ones to filter_videos (which removes their
    stored clips right away): each event only when it has goals."""
    results = [r for r in results or [] if r]
    confirmed = sorted({g for r in results for g in r["new_goals"]})
    withdrawn = sorted({g for r in results for g in r.get("withdrawn_goals") or []})
    if not (confirmed or withdrawn):
        raise AirflowSkipException("no goal confirmed or withdrawn")
    if confirmed:
        hand_off(CONFIRMED_GOALS, {"goal_ids": confirmed})
    if withdrawn:
        hand_off(WITHDRAWN_GOALS, {"goal_ids": withdrawn})
    return {"confirmed": confirmed, "withdrawn": withdrawn}
