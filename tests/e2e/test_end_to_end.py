"""End to end through the real scheduler, triggerer, dag-processor and API server.

FerretDB, the stand-in server (API-Football + X + clip host) replaying the `e2e` scenario and
Airflow's components are started as a user would start them (`scripts/service start
airflow`); the DAGs are unpaused and ingest is triggered; then the test waits until every
fixture is completed and asserts the final MongoDB state and the stored objects exactly.
Triggering every DAG again must change nothing. Along the way: the scheduler is killed while
idle and the triggerer while goals are in flight (both are restarted and nothing is lost),
every socket of the stack listens on loopback only, and a stop leaves no process behind.
One goal is carried by `goal_processing_pipeline` alone: the clip stages are paused until a
single manual run of the pipeline, for that goal only, has completed it.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
import requests
from matchday import (
    HAALAND,
    SALAH,
    assert_announced,
    assert_end_state,
    kill,
    mongo_uri_of,
    received,
    report_figures,
    restarted,
    snapshot,
    stack_env,
    stop_leaving_nothing,
    strays,
    wait_until_announced,
    wait_until_done,
)

from footy.store import GOALS, connect
from footy_testbed.services import STAGE_DAGS, ServiceStack

pytestmark = pytest.mark.integration

AIRFLOW_PORT, STANDIN_PORT = 8187, 8197
IDLE_S = 60
PIPELINE = "goal_processing_pipeline"
CLIP_STAGES = ["scrape_twitter", "download_videos", "filter_videos"]
WORK_DRIVEN = ["monitor_fixtures", "process_goals", "scrape_twitter", "download_videos",
               "filter_videos", "publish_clips"]


@pytest.fixture
def stack(mongo_uri, tmp_path):
    running = ServiceStack(stack_env(mongo_uri, tmp_path, AIRFLOW_PORT, STANDIN_PORT))
    try:
        running.start("airflow")
        yield running
    finally:
        assert not stop_leaving_nothing(running, tmp_path), "processes left after stop"


def test_match_day_through_the_real_scheduler(stack, tmp_path, record_property):
    airflow = stack
    airflow.wait_for_dags([*STAGE_DAGS, PIPELINE])
    airflow.cli("pools", "set", "footy_downloads", "4", "e2e")
    airflow.unpause([d for d in STAGE_DAGS if d != "ingest_fixtures"])

    # Idle: the DAGs switched on, no fixture anywhere. Work-driven DAGs start no run (their
    # watchers poll every 5-15 s and would fire within one poll of work appearing). The
    # scheduler is killed meanwhile: the supervisor starts it again, and the day proves it.
    scheduler = kill(airflow, "scheduler")
    time.sleep(IDLE_S)
    idle_runs = {d: airflow.run_count(d) for d in WORK_DRIVEN}
    assert idle_runs == dict.fromkeys(WORK_DRIVEN, 0), idle_runs
    assert restarted(airflow, "scheduler", scheduler)
    # the task processes the killed scheduler had started did not outlive it
    assert strays(airflow) == []

    # The clip stages wait while the sequential pipeline takes one goal through alone.
    airflow.pause(CLIP_STAGES)
    airflow.unpause([PIPELINE])
    airflow.start("standin")  # the match day starts now
    # Nothing of the stack listens beyond this machine (API server, log servers, stand-in).
    listening = airflow.listening()
    assert listening and all(ip in {"127.0.0.1", "::1"} for _, ip, _ in listening), listening
    airflow.unpause(["ingest_fixtures"])
    airflow.trigger("ingest_fixtures", {"date": datetime.now(UTC).date().isoformat()})

    db = connect(mongo_uri_of(airflow.env), airflow.env["FOOTY_MONGO_DB"])
    started = time.monotonic()
    while db[GOALS].count_documents({"_id": SALAH, "status": "confirmed"}) == 0:
        assert time.monotonic() - started < 10 * 60, "the penalty was never confirmed"
        time.sleep(2)
    # goals in flight, watchers and sensors deferred: the triggerer dies
    triggerer = kill(airflow, "triggerer")
    pipeline_run = airflow.trigger(PIPELINE, {"goal_ids": [SALAH]})
    assert airflow.wait_for_runs({PIPELINE: pipeline_run}, limit=5 * 60) == {PIPELINE: "success"}
    salah = db[GOALS].find_one({"_id": SALAH})
    assert salah["processing_status"]["completed"] is True  # in that one run
    completed = {g["_id"] for g in db[GOALS].find({"processing_status.completed": True})}
    assert completed == {SALAH}, completed
    assert airflow.run_count("scrape_twitter") == 0
    airflow.unpause(CLIP_STAGES)

    elapsed = wait_until_done(db, started)
    assert restarted(airflow, "triggerer", triggerer)
    storage_root = tmp_path / "storage"
    assert_end_state(db, storage_root)
    standin_url = f"http://127.0.0.1:{airflow.env['FOOTY_STANDIN_PORT']}"
    posts = wait_until_announced(standin_url)
    assert_announced(posts)  # every keeper posted to the stand-in's Discord channel, once

    report_figures(record_property, "embedded", elapsed,
                   {d: airflow.run_count(d) for d in WORK_DRIVEN}, db)

    # Everything again: every DAG triggered once more changes nothing.
    before = snapshot(db, storage_root)
    runs = {d: airflow.trigger(d) for d in [*STAGE_DAGS, PIPELINE] if d != "ingest_fixtures"}
    runs["ingest_fixtures"] = airflow.trigger(
        "ingest_fixtures", {"date": datetime.now(UTC).date().isoformat()})
    states = airflow.wait_for_runs(runs, limit=6 * 60)
    assert set(states.values()) == {"success"}, states
    assert snapshot(db, storage_root) == before
    assert received(standin_url) == posts, "a re-run posted again"

    # A conf key the DAG does not declare: the REST API refuses it before a run exists...
    runs_before = airflow.run_count("scrape_twitter")
    with pytest.raises(requests.HTTPError) as refused:
        airflow.trigger("scrape_twitter", {"goal_idz": [HAALAND]})
    assert refused.value.response.status_code == 400
    assert "'goal_idz'" in refused.value.response.json()["detail"]
    assert airflow.run_count("scrape_twitter") == runs_before
    # ...the CLI writes its run itself: the first task fails at once, naming the key; and
    # the spec's own key (goal_id) is accepted. Neither changes anything here.
    airflow.cli("dags", "trigger", "download_videos", "--run-id", "bad-conf",
                "--conf", json.dumps({"goalid": HAALAND}))
    spec_run = airflow.trigger("filter_videos", {"goal_id": HAALAND})
    states = airflow.wait_for_runs({"download_videos": "bad-conf", "filter_videos": spec_run},
                                   limit=3 * 60)  # fmt: skip
    assert states == {"download_videos": "failed", "filter_videos": "success"}, states
    assert snapshot(db, storage_root) == before
