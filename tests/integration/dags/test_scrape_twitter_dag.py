"""scrape_twitter run with ``dag.test()`` against FerretDB and the stand-in X API.

Goals are confirmed by the real fixture/goal stages on the stand-in's clock; the DAG then
searches them as the scheduler would run it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from footy.api_football import ApiFootballClient
from footy.pipeline.fixtures import Tracking, advance, ingest, monitor
from footy.pipeline.goals import process_fixture_goals
from footy.store import FIXTURES_ACTIVE, GOALS, VIDEOS
from footy_airflow.sensors import MongoQuerySensor
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration

BASE = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
TOKEN = "standin-token"
HAALAND = "2001_50_1100_normal_1"
HOJLUND = "2004_33_2860_normal_1"


@pytest.fixture
def standin(monkeypatch):
    handle = start_in_thread("test_matchday", base_time=BASE, paused_at=0,
                             settings={"x_bearer_token": TOKEN})
    monkeypatch.setenv("AIRFLOW_CONN_X_API", json.dumps(
        {"conn_type": "http", "host": handle.url, "password": TOKEN}))
    monkeypatch.setenv("AIRFLOW_VAR_FOOTY_DISCOVERY",
                       json.dumps({"attempts": 3, "interval_seconds": 2}))
    yield handle
    handle.stop()


def _at(standin, monkeypatch, t: float) -> datetime:
    standin.world.clock.set(t)
    now = BASE + timedelta(seconds=t)
    monkeypatch.setattr("footy_airflow.tasks.discover._now", lambda: now)
    return now


def _confirm_goals(db, standin, monkeypatch, until: int) -> None:
    client = ApiFootballClient(standin.url, "test-key", timeout=(2, 5), max_attempts=2,
                               backoff_initial=0.05, backoff_max=0.2, max_total_wait=2)
    ingest(db, client, BASE.date().isoformat(), Tracking([39, 45], [], 2025),
           _at(standin, monkeypatch, 0))
    for t in range(until + 1):
        now = _at(standin, monkeypatch, t)
        advance(db, now, lead=timedelta(seconds=20))
        monitor(db, client, f"poll-{t}", now)
        for doc in db[FIXTURES_ACTIVE].find({"goal_changes.pending": True}, {"_id": 1}):
            process_fixture_goals(db, doc["_id"], now)


def _tis(run, task_id):
    return [ti for ti in run.get_task_instances() if ti.task_id == task_id]


def test_one_named_task_instance_per_goal_and_candidates_stored(dags, db, standin,
                                                                monkeypatch, asset_events):
    for task in dags["scrape_twitter"].tasks:
        if isinstance(task, MongoQuerySensor):
            task.timeout = 1.0  # dag.test() runs the trigger inline
    _confirm_goals(db, standin, monkeypatch, until=86)
    confirmed = {g["_id"]: g["label"] for g in db[GOALS].find({"status": "confirmed"})}
    assert set(confirmed) == {HAALAND, HOJLUND}

    dag = dags["scrape_twitter"]
    run = dag.test()
    searched = _tis(run, "search_goal")
    assert {ti.rendered_map_index for ti in searched} == set(confirmed.values())
    assert {ti.state for ti in searched} == {"success"}
    (announce,) = _tis(run, "announce_search_results")
    assert announce.state == "success"
    states = {v["_id"]: v["state"] for v in db[VIDEOS].find()}
    assert sum(s == "candidate" for s in states.values()) == 3 + 2  # Haaland 3, Højlund 2
    assert sum(s == "rejected" for s in states.values()) == 4
    assert all(g["processing_status"]["search"]["attempts"] == 1 for g in db[GOALS].find())
    # handed on: the candidates to download_videos, both goals to their next attempt
    [candidates] = asset_events("footy_clip_candidates")
    assert candidates["goal_ids"] == sorted(confirmed) and len(candidates["video_ids"]) == 5
    assert asset_events("footy_searches_pending") == [{"goal_ids": sorted(confirmed)}]

    # Same scenario time again: nothing is due, every goal is skipped, nothing announced.
    before = sorted(db[VIDEOS].find(), key=lambda v: v["_id"])
    again = dag.test()
    assert {ti.state for ti in _tis(again, "search_goal")} == {"skipped"}
    assert _tis(again, "announce_search_results")[0].state == "skipped"
    assert sorted(db[VIDEOS].find(), key=lambda v: v["_id"]) == before

    # A manual run searches the given goal now; nothing new has been posted.
    manual = dag.test(run_conf={"goal_ids": [HAALAND]})
    (one,) = _tis(manual, "search_goal")
    assert one.state == "success" and one.rendered_map_index == confirmed[HAALAND]
    assert _tis(manual, "goals_to_search")[0].state == "success"  # no wait: the conf names the goal
    status = db[GOALS].find_one({"_id": HAALAND})["processing_status"]
    assert status["search"]["attempts"] == 2
    assert sorted(db[VIDEOS].find(), key=lambda v: v["_id"]) == before

    # Later attempts end every goal's window (3 attempts configured). dag.test() keeps the
    # last run_conf, so scheduled runs from here on say their (default) conf explicitly.
    for t in (90, 92):
        _at(standin, monkeypatch, t)
        dag.test(run_conf={"goal_ids": [], "force": False})
    goals = list(db[GOALS].find())
    assert all(g["processing_status"]["twitter_scraped"] for g in goals)


def test_bad_manual_conf_is_refused(airflow_db):
    env = os.environ.copy()
    subprocess.run([sys.executable, "-m", "airflow", "dags", "reserialize"], env=env,
                   check=True, capture_output=True)
    bad = subprocess.run(
        [sys.executable, "-m", "airflow", "dags", "trigger", "scrape_twitter", "--conf",
         '{"goal_ids": "2001_50_1100_normal_1"}'],
        env=env, capture_output=True, text=True,
    )
    assert bad.returncode != 0
    assert "Invalid input for param goal_ids" in bad.stderr + bad.stdout
