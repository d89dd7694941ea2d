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

import psutil
import pytest
import requests

from footy.storage import LocalClipStorage
from footy.store import FIXTURES_ACTIVE, FIXTURES_COMPLETED, FIXTURES_STAGING, GOALS, VIDEOS
from footy.store.report import goal_summaries
from footy_testbed.embedded import embedded_env
from footy_testbed.services import STAGE_DAGS, ServiceStack

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW_PORT, STANDIN_PORT = "8187", "8197"
DEADLINE_S = 15 * 60
IDLE_S = 60
PIPELINE = "goal_processing_pipeline"
CLIP_STAGES = ["scrape_twitter", "download_videos", "filter_videos"]
WORK_DRIVEN = ["monitor_fixtures", "process_goals", "scrape_twitter", "download_videos",
               "filter_videos"]

HAALAND, MARTINELLI = "3001_50_1100_normal_1", "3001_42_g-martinelli_normal_1"
FODEN, SALAH = "3001_50_631_normal_1", "3002_40_306_penalty_1"
KEEPERS = {  # goal -> the source ids of its kept clips (best copy of each distinct clip)
    HAALAND: {"1900000000000300001", "1900000000000300003"},  # broadcast + behind the goal
    MARTINELLI: {"1900000000000300011"},
    SALAH: {"1900000000000300031"},
}
DUPLICATES = {"1900000000000300002": "1900000000000300001",  # logo + crop re-upload
              "1900000000000300032": "1900000000000300031"}


@pytest.fixture
def stack(mongo_uri, tmp_path):
    db_name = f"footy_e2e_{int(time.time())}"
    env = {
        **os.environ,
        **embedded_env(ROOT, standin_url=f"http://127.0.0.1:{STANDIN_PORT}",
                       mongo_uri=mongo_uri, league_ids=[39], season=2025),
        "FOOTY_STATE_DIR": str(tmp_path / "state"),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "FOOTY_MONGO_DB": db_name,
        "FOOTY_STORAGE_URL": (tmp_path / "storage").as_uri(),
        "FOOTY_AIRFLOW_PORT": AIRFLOW_PORT,
        "FOOTY_STANDIN_PORT": STANDIN_PORT,
        "FOOTY_SCENARIO": "e2e",
        "AIRFLOW_VAR_FOOTY_DISCOVERY": json.dumps(
            {"attempts": 2, "interval_seconds": 15, "enough_clips": 10}),
    }
    for key in ("AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__PLUGINS_FOLDER",
                "AIRFLOW__API__BASE_URL", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL"):
        env.pop(key, None)  # scripts/airflow-env derives these for this stack's port
    running = ServiceStack(env)
    try:
        running.start("airflow")
        yield running, db_name, tmp_path / "storage"
    finally:
        tree = running.processes("airflow") + running.processes("standin")
        running.stop()
        # a stop leaves nothing behind: components, task processes, the stand-in
        left = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
        left += _strays(running)
        for log in sorted((tmp_path / "state" / "log").glob("airflow*.log")):
            print(f"{log.name} (tail):\n" + "\n".join(log.read_text().splitlines()[-30:]))
        assert not left, f"processes left after stop: {left}"


def _snapshot(db, storage: LocalClipStorage) -> dict:
    docs = {name: sorted(db[name].find({}), key=lambda d: str(d["_id"]))
            for name in (FIXTURES_STAGING, FIXTURES_ACTIVE, FIXTURES_COMPLETED, GOALS, VIDEOS)}
    return {**docs, "objects": [(o.key, o.size) for o in storage.list()]}


def _done(db) -> bool:
    # Fixtures complete only once every goal is processed and withdrawn goals hold no clip.
    return (db[FIXTURES_COMPLETED].count_documents({}) == 2
            and db[GOALS].count_documents({"status": "confirmed",
                                           "processing_status.completed": False}) == 0)


def test_match_day_through_the_real_scheduler(stack, capsys):
    from footy.store import connect

    airflow, db_name, storage_root = stack
    airflow.wait_for_dags([*STAGE_DAGS, PIPELINE])
    airflow.cli("pools", "set", "footy_downloads", "4", "e2e")
    airflow.unpause([d for d in STAGE_DAGS if d != "ingest_fixtures"])

    # Idle: the DAGs switched on, no fixture anywhere. Work-driven DAGs start no run (their
    # watchers poll every 5-15 s and would fire within one poll of work appearing). The
    # scheduler is killed meanwhile: the supervisor starts it again, and the day proves it.
    scheduler = _kill(airflow, "scheduler")
    time.sleep(IDLE_S)
    idle_runs = {d: airflow.run_count(d) for d in WORK_DRIVEN}
    assert idle_runs == dict.fromkeys(WORK_DRIVEN, 0), idle_runs
    assert _restarted(airflow, "scheduler", scheduler)
    # the task processes the killed scheduler had started did not outlive it
    assert _strays(airflow) == []

    # The clip stages wait while the sequential pipeline takes one goal through alone.
    airflow.pause(CLIP_STAGES)
    airflow.unpause([PIPELINE])
    airflow.start("standin")  # the match day starts now
    # Nothing of the stack listens beyond this machine (API server, log servers, stand-in).
    listening = airflow.listening()
    assert listening and all(ip in {"127.0.0.1", "::1"} for _, ip, _ in listening), listening
    airflow.unpause(["ingest_fixtures"])
    airflow.trigger("ingest_fixtures", {"date": datetime.now(UTC).date().isoformat()})

    db = connect(_uri(airflow.env), db_name)
    started = time.monotonic()
    while db[GOALS].count_documents({"_id": SALAH, "status": "confirmed"}) == 0:
        assert time.monotonic() - started < DEADLINE_S, "the penalty was never confirmed"
        time.sleep(2)
    # goals in flight, watchers and sensors deferred: the triggerer dies
    triggerer = _kill(airflow, "triggerer")
    pipeline_run = airflow.trigger(PIPELINE, {"goal_ids": [SALAH]})
    assert airflow.wait_for_runs({PIPELINE: pipeline_run}, limit=5 * 60) == {PIPELINE: "success"}
    salah = db[GOALS].find_one({"_id": SALAH})
    assert salah["processing_status"]["completed"] is True  # in that one run
    completed = {g["_id"] for g in db[GOALS].find({"processing_status.completed": True})}
    assert completed == {SALAH}, completed
    assert airflow.run_count("scrape_twitter") == 0
    airflow.unpause(CLIP_STAGES)

    while not _done(db):
        assert time.monotonic() - started < DEADLINE_S, "the match day did not complete in time"
        time.sleep(5)
    elapsed = time.monotonic() - started
    assert _restarted(airflow, "triggerer", triggerer)

    goals = {g["_id"]: g for g in db[GOALS].find()}
    assert {g for g, d in goals.items() if d["status"] == "confirmed"} == set(KEEPERS)
    assert {g for g, d in goals.items() if d["status"] == "withdrawn"} == {FODEN}
    videos = list(db[VIDEOS].find())
    for goal_id, keepers in KEEPERS.items():
        assert goals[goal_id]["processing_status"]["completed"] is True
        kept = {v["source_id"] for v in videos if v["goal_id"] == goal_id and v["state"] == "kept"}
        assert kept == keepers, goal_id
    by_source = {v["source_id"]: v for v in videos}
    for dup, keeper in DUPLICATES.items():
        assert by_source[dup]["state"] == "duplicate"
        assert by_source[dup]["duplicate_of"] == by_source[keeper]["_id"]
    assert not [v for v in videos if v["goal_id"] == FODEN and v["state"] in {"stored", "kept"}]

    storage = LocalClipStorage(storage_root)
    stored = {o.key for o in storage.list()}
    assert stored == {v["storage"]["key"] for v in videos if v["state"] == "kept"}
    assert not any(FODEN in key for key in stored)

    with capsys.disabled():
        print(f"\ne2e: match day completed {elapsed:.0f}s after ingest was triggered")
        print("e2e: DAG runs: " + ", ".join(f"{d} {airflow.run_count(d)}" for d in WORK_DRIVEN))
        for g in goal_summaries(db):
            first, done = g["seconds_to_first_keeper"], g["seconds_to_completed"]
            print(f"e2e: {g['label']}: {g['status']}; after confirmation: first keeper "
                  f"{'-' if first is None else f'{first:.0f}s'}, completed "
                  f"{'-' if done is None else f'{done:.0f}s'}")

    # Everything again: every DAG triggered once more changes nothing.
    before = _snapshot(db, storage)
    runs = {d: airflow.trigger(d) for d in [*STAGE_DAGS, PIPELINE] if d != "ingest_fixtures"}
    runs["ingest_fixtures"] = airflow.trigger(
        "ingest_fixtures", {"date": datetime.now(UTC).date().isoformat()})
    states = airflow.wait_for_runs(runs, limit=6 * 60)
    assert set(states.values()) == {"success"}, states
    assert _snapshot(db, storage) == before

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
    assert _snapshot(db, storage) == before


def _kill(airflow: ServiceStack, component: str) -> int:
    proc = airflow.component(component)
    assert proc is not None, f"no {component} running"
    proc.kill()  # SIGKILL: no chance to clean up
    return proc.pid


def _restarted(airflow: ServiceStack, component: str, old_pid: int, limit: float = 60) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        proc = airflow.component(component)
        if proc is not None and proc.pid != old_pid:
            return True
        time.sleep(1)
    return False


def _strays(airflow: ServiceStack) -> list[psutil.Process]:
    """Airflow processes of this stack (by AIRFLOW_HOME) outside the supervisor's tree."""
    tree = {p.pid for p in airflow.processes("airflow")}
    strays = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if (proc.pid not in tree and "airflow" in " ".join(proc.info["cmdline"] or [])
                    and proc.environ().get("AIRFLOW_HOME") == airflow.env["AIRFLOW_HOME"]):
                strays.append(proc)
        except psutil.Error:
            continue
    return strays


def _uri(env: dict[str, str]) -> str:
    return env["AIRFLOW_CONN_MONGO_DEFAULT"].replace("mongo://", "mongodb://", 1)
