"""The fixture-half DAGs, run with ``dag.test()`` on a replayed match day.

The stand-in server's clock is stepped; at each step the real DAG files run as the
scheduler would run them (advance -> monitor -> process_goals on a change).
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from footy.store import FIXTURES_ACTIVE, FIXTURES_COMPLETED, FIXTURES_STAGING, GOALS
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration

BASE = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
# Polls every 3 scenario seconds, every second while the VAR-disallowed goal is on screen
# (it must be confirmed before it is taken back for the withdrawal to show).
STEPS = [*range(0, 100, 3), *range(100, 117), *range(117, 241, 3)]
CONFIRMED = {
    "2001_50_1100_normal_1", "2001_42_g-martinelli_normal_1", "2001_42_567_own_1",
    "2001_50_1100_penalty_1", "2002_40_306_penalty_1", "2002_49_n-jackson_normal_1",
    "2004_33_2860_normal_1", "2004_34_1622_normal_1",
}
WITHDRAWN = {"2001_50_631_normal_1"}


def _snapshot(db) -> dict:
    return {name: sorted(db[name].find({}), key=lambda d: str(d["_id"]))
            for name in (FIXTURES_STAGING, FIXTURES_ACTIVE, FIXTURES_COMPLETED, GOALS)}


def _state(run, task_id: str) -> str:
    return next(ti.state for ti in run.get_task_instances() if ti.task_id == task_id)


@pytest.fixture
def standin(api_football_connection, monkeypatch):
    handle = start_in_thread("test_matchday", base_time=BASE, paused_at=0)
    api_football_connection(handle.url)
    monkeypatch.setenv("AIRFLOW_VAR_FOOTY_ACTIVATION_LEAD_MINUTES", "0.5")
    monkeypatch.setenv("AIRFLOW_VAR_FOOTY_TRACKING", '{"league_ids": [39, 45], "season": 2025}')
    yield handle
    handle.stop()


def test_replayed_match_day_through_the_dags(
    dags, db, standin, monkeypatch, short_sensor_timeouts, asset_events
):
    short_sensor_timeouts(*dags.values())
    dags["ingest_fixtures"].test(run_conf={"date": "2026-03-14"})
    assert db[FIXTURES_STAGING].count_documents({}) == 4

    runs, advanced = {}, []
    for t in STEPS:
        standin.world.clock.set(t)
        monkeypatch.setattr("footy_airflow.tasks.fixtures._now",
                            lambda t=t: BASE + __import__("datetime").timedelta(seconds=t))
        runs["advance_fixtures"] = dags["advance_fixtures"].test()
        advanced.append(_state(runs["advance_fixtures"], "advance_buckets"))
        if db[FIXTURES_ACTIVE].count_documents({}):
            runs["monitor_fixtures"] = dags["monitor_fixtures"].test()
        if db[FIXTURES_ACTIVE].count_documents({"goal_changes.pending": True}):
            runs["process_goals"] = dags["process_goals"].test()
        # The clip stages are not part of this half: mark goals fully processed.
        db[GOALS].update_many({}, {"$set": {"processing_status.completed": True}})

    goals = {g["_id"]: g for g in db[GOALS].find()}
    assert {g for g, d in goals.items() if d["status"] == "confirmed"} == CONFIRMED
    assert {g for g, d in goals.items() if d["status"] == "withdrawn"} == WITHDRAWN
    assert db[FIXTURES_COMPLETED].count_documents({}) == 4
    # A minute in which no fixture moves shows as skipped, not as work done.
    assert set(advanced) == {"success", "skipped"}, advanced
    named = {ti.rendered_map_index for ti in runs["process_goals"].get_task_instances()
             if ti.task_id == "process_fixture"}
    assert named and all(" v " in (label or "") for label in named), named
    # The hand-offs reached their Assets, each only with work in it: the polls' goal changes,
    # then the confirmed goals (the VAR-disallowed one among them, until it is taken back)
    # and the withdrawn one.
    changes = asset_events("footy_fixture_goal_changes")
    assert changes and all(e["fixture_ids"] for e in changes)
    confirmed = {g for e in asset_events("footy_confirmed_goals") for g in e["goal_ids"]}
    assert confirmed == CONFIRMED | WITHDRAWN
    assert asset_events("footy_withdrawn_goals") == [{"goal_ids": sorted(WITHDRAWN)}]

    # Re-running every DAG (the same runs again, and new ones) leaves MongoDB unchanged.
    before = _snapshot(db)
    for dag_id, run in runs.items():
        dags[dag_id].test(logical_date=run.logical_date)
    dags["ingest_fixtures"].test(run_conf={"date": "2026-03-14"})
    for dag_id in ("advance_fixtures", "monitor_fixtures", "process_goals"):
        dags[dag_id].test()
    assert _snapshot(db) == before
    assert _state(dags["advance_fixtures"].test(), "advance_buckets") == "skipped"


def test_bad_manual_conf_is_refused_naming_the_field(airflow_db):
    env = os.environ.copy()
    subprocess.run([sys.executable, "-m", "airflow", "dags", "reserialize"], env=env,
                   check=True, capture_output=True)
    bad = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "trigger", "process_goals", "--conf",
         '{"fixture_id": "Arsenal", "goal_events": []}'],
        env=env, capture_output=True, text=True,
    )
    assert bad.returncode != 0
    assert "Invalid input for param fixture_id" in bad.stderr + bad.stdout
    bad_event = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "trigger", "process_goals", "--conf",
         '{"fixture_id": 1, "goal_events": [{"time": {"elapsed": 3}, "team": {"id": 1},'
         ' "player": {"name": "X"}, "type": "Goal", "detail": "Header"}]}'],
        env=env, capture_output=True, text=True,
    )
    assert bad_event.returncode != 0
    assert "Invalid input for param goal_events" in bad_event.stderr + bad_event.stdout


def test_ingest_takes_the_day_and_the_window_after_it(dags, db, standin):
    # The run of the day before the match day finds its fixtures: they are in the window.
    run = dags["ingest_fixtures"].test(logical_date=BASE - timedelta(days=1))
    days = {ti.rendered_map_index: ti.state for ti in run.get_task_instances()
            if ti.task_id == "ingest_day"}  # fmt: skip
    assert days == {"2026-03-13": "success", "2026-03-14": "success", "2026-03-15": "success"}
    assert db[FIXTURES_STAGING].count_documents({}) == 4


def test_a_manual_run_confirms_the_confs_goal_events_and_hands_them_on(dags, db, standin,
                                                                       asset_events):
    """The seed's manual run: ``{"fixture_id": ..., "goal_events": [...]}``, no debounce; the
    fixture is the run's one mapped instance and the goal is handed to scrape_twitter."""
    dags["ingest_fixtures"].test(run_conf={"date": "2026-03-14"})
    haaland = {"time": {"elapsed": 23, "extra": None},
               "team": {"id": 50, "name": "Manchester City"},
               "player": {"id": 1100, "name": "E. Haaland"}, "assist": {"id": None, "name": None},
               "type": "Goal", "detail": "Normal Goal", "comments": None}
    run = dags["process_goals"].test(run_conf={"fixture_id": 2001, "goal_events": [haaland]})
    states = {(ti.task_id, ti.map_index): ti.state for ti in run.get_task_instances()}
    assert states == {("select_fixtures", -1): "success", ("process_fixture", 0): "success",
                      ("announce_goals", -1): "success"}
    assert db[GOALS].find_one({"_id": "2001_50_1100_normal_1"})["status"] == "confirmed"
    assert asset_events("footy_confirmed_goals") == [{"goal_ids": ["2001_50_1100_normal_1"]}]
    assert asset_events("footy_withdrawn_goals") == []
