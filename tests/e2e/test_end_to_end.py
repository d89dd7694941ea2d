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
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import pytest
import requests
from goals_page import (
    VIEWER,
    api,
    assert_signed_out_refused,
    browse,
    goal_instance,
    password_of,
    token,
)
from matchday import (
    FODEN,
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

from footy.store import GOALS, VIDEOS, connect
from footy_testbed.services import ROOT, STAGE_DAGS, ServiceStack

pytestmark = pytest.mark.integration

AIRFLOW_PORT, STANDIN_PORT = 8187, 8197
IDLE_S = 60
PIPELINE = "goal_processing_pipeline"
CLIP_STAGES = ["scrape_twitter", "download_videos", "filter_videos"]
WORK_DRIVEN = ["monitor_fixtures", "process_goals", "scrape_twitter", "download_videos",
               "filter_videos", "publish_clips"]


@pytest.fixture
def stack(mongo_uri, tmp_path):
    users = f"admin:admin,{VIEWER}:viewer"  # a read-only user for the Goals page's checks
    running = ServiceStack(stack_env(mongo_uri, tmp_path, AIRFLOW_PORT, STANDIN_PORT,
                                     AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=users))
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
    # Not before the VAR-cancelled goal is confirmed too: the live poll's watcher runs in the
    # triggerer, and a goal on the scoreboard only while it is down is never seen at all.
    while not (db[GOALS].count_documents({"_id": SALAH, "status": "confirmed"})
               and db[GOALS].count_documents({"_id": FODEN})):
        assert time.monotonic() - started < 10 * 60, "the penalty or Foden's goal never came"
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

    check_goals_page(airflow, db, storage_root, before, tmp_path)


def check_goals_page(airflow, db, storage_root, before, tmp_path) -> None:
    """footy's page in the Airflow UI, on the finished day: closed to anyone signed out, the
    day and its clips for a signed-in user, a re-run only with the permission to trigger, and
    a real browser through login, playback and a task instance's link."""
    base = airflow.api
    clip = db[VIDEOS].find_one({"goal_id": HAALAND, "state": "kept"}, sort=[("_id", 1)])
    assert_signed_out_refused(base, HAALAND, clip["_id"])

    admin = token(base, "admin", "admin")
    day = api(base, admin, f"/api/matchday?day={datetime.now(UTC).date()}").json()
    listed = {g["id"] for f in day["fixtures"] for g in f["goals"]}
    assert listed == {g["_id"] for g in db[GOALS].find({}, {"_id": 1})}
    kept = {c["id"] for f in day["fixtures"] for g in f["goals"] for c in g["clips"]["kept"]}
    assert kept == {v["_id"] for v in db[VIDEOS].find({"state": "kept"}, {"_id": 1})}
    part = api(base, admin, f"/clips/{quote(clip['_id'], safe='')}",
               headers={"Range": "bytes=0-1023"})  # fmt: skip
    assert part.status_code == 206 and len(part.content) == 1024
    assert part.headers["content-range"] == f"bytes 0-1023/{clip['storage']['size']}"

    # A re-run needs the permission to trigger the DAG: Airflow's read-only role is refused.
    viewer = token(base, VIEWER, password_of(tmp_path / "airflow", VIEWER))
    assert api(base, viewer, f"/api/goals/{HAALAND}").status_code == 200
    refused = api(base, viewer, f"/api/goals/{HAALAND}/rerun", method="POST",
                  json={"stage": "filter"})  # fmt: skip
    assert refused.status_code == 403, refused.text
    rerun = api(base, admin, f"/api/goals/{HAALAND}/rerun", method="POST", json={"stage": "filter"})
    assert rerun.status_code == 201, rerun.text
    run_id = rerun.json()["run_id"]
    assert airflow.wait_for_runs({"filter_videos": run_id}, limit=3 * 60) == {
        "filter_videos": "success"}
    assert snapshot(db, storage_root) == before  # a re-run of a finished goal changes nothing

    label = db[GOALS].find_one({"_id": HAALAND})["label"]
    ti = goal_instance(airflow, HAALAND, label)
    assert ti["links"] == {"Goal page": f"/plugin/goals/footy/goals/{HAALAND}"}
    artifacts = Path(os.environ.get("FOOTY_TEST_ARTIFACTS", ROOT / "test-artifacts")) / "goals-page"
    seen = browse(base, "admin", HAALAND, clip["_id"], ti, artifacts)
    assert "/auth/login" in seen["login_url"]
    assert seen["goals_listed"] == len(listed) and seen["ready_state"] >= 2
    assert seen["goal_page_title"] == label
    assert sorted(p.name for p in artifacts.glob("*.png")) == [
        "1-goals-match-day.png", "2-goals-clip-playing.png", "3-task-instance-link.png",
        "4-goal-page.png"]
