"""goal_processing_pipeline with ``dag.test()``: the stage tasks in one sequential DAG.

Goals confirmed by the fixture DAGs on the stand-in's match day are taken from "confirmed"
to "completed with kept clips" by one manual run of the one DAG, with the stand-in X search,
real downloads from its clip host and real fingerprints.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from footy.store import GOALS, VIDEOS
from footy_airflow.sensors import MongoQuerySensor
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration
HAALAND = "2001_50_1100_normal_1"  # 7 posts: 3 accepted (2 re-uploads of one clip + an angle)


def _scenario_start() -> datetime:
    """Scenario t=0 a minute ago, taken when the test runs: the X search window is anchored
    on the real confirmation time, so the stand-in's posts must carry real timestamps too.
    (Moving it away from midnight would break that anchoring; a match that crosses midnight
    is ingested anyway, by the window after the day ingest_fixtures is given.)"""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(seconds=60)


@pytest.fixture
def stack(dags, db, tmp_path, monkeypatch, api_football_connection):
    base = _scenario_start()
    standin = start_in_thread("test_matchday", base_time=base, paused_at=0)
    standin.base = base
    api_football_connection(standin.url)
    monkeypatch.setenv("AIRFLOW_CONN_X_API", json.dumps(
        {"conn_type": "http", "host": standin.url, "password": "token"}))
    monkeypatch.setenv("AIRFLOW_VAR_FOOTY_TRACKING", '{"league_ids": [39], "season": 2025}')
    monkeypatch.setenv("AIRFLOW_VAR_FOOTY_ACTIVATION_LEAD_MINUTES", "0.5")
    monkeypatch.setenv("AIRFLOW_VAR_FOOTY_DISCOVERY",
                       '{"attempts": 2, "interval_seconds": 0.1, "enough_clips": 10}')
    monkeypatch.setenv("FOOTY_X_MEDIA_HOSTS", "127.0.0.1")
    monkeypatch.setenv("FOOTY_DOWNLOAD_ALLOW_PRIVATE", "1")
    monkeypatch.setenv("FOOTY_STORAGE_URL", (tmp_path / "store").as_uri())
    monkeypatch.setenv("FOOTY_DOWNLOAD_WORK_DIR", str(tmp_path / "work"))
    subprocess.run([sys.executable, "-m", "airflow", "pools", "set", "footy_downloads", "4",
                    "downloads"], check=True, capture_output=True, env=os.environ.copy())
    for dag in dags.values():
        for t in dag.tasks:
            if isinstance(t, MongoQuerySensor):
                t.timeout = 1.0
    yield standin
    standin.stop()


def _confirm_goals(dags, db, standin, until: int) -> None:
    """Fixture half via its own DAGs, one poll per scenario second up to ``until``."""
    dags["ingest_fixtures"].test(run_conf={"date": standin.base.date().isoformat()})
    for t in range(60, until):
        standin.world.clock.set(t)
        dags["advance_fixtures"].test()
        dags["monitor_fixtures"].test()


def test_sequential_pipeline_completes_pending_goals(dags, db, stack):
    _confirm_goals(dags, db, stack, until=76)  # Haaland (t=71) seen in 3+ polls
    stack.world.clock.set(100)  # his clips are posted by now
    pipeline = dags["goal_processing_pipeline"]
    runs = [pipeline.test()]  # one run carries the goal all the way

    goal = db[GOALS].find_one({"_id": HAALAND})
    assert goal is not None and goal["processing_status"]["completed"] is True
    assert goal["processing_status"]["search"]["attempts"] == 1  # its one, last attempt
    states = {v["source_id"]: v["state"] for v in db[VIDEOS].find({"goal_id": HAALAND})}
    assert sorted(s for s in states.values() if s == "kept") == ["kept", "kept"]
    assert list(states.values()).count("duplicate") == 1
    assert states["1900000000000083004"] == "rejected"  # the portrait phone recording

    first = runs[0].get_task_instances()
    named = {ti.task_id: ti.rendered_map_index for ti in first if ti.map_index >= 0}
    assert named.get("process_fixture", "").startswith("2001 ")
    assert named.get("search_goal") == "E. Haaland 12' Manchester City v Arsenal"  # not yet 11'

    before = (list(db[GOALS].find()), list(db[VIDEOS].find()))
    stack.world.clock.set(101)
    pipeline.test()
    assert (list(db[GOALS].find()), list(db[VIDEOS].find())) == before
    assert datetime.now(UTC) - goal["processing_status"]["completed_at"] < timedelta(minutes=10)
