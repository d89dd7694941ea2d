"""The `e2e` scenario's match day and its exact expected end state, shared by the e2e runs
on the embedded stack (test_end_to_end.py) and on the distributed one (test_distributed.py).
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import psutil
import requests

from footy.storage import LocalClipStorage
from footy.store import FIXTURES_ACTIVE, FIXTURES_COMPLETED, FIXTURES_STAGING, GOALS, VIDEOS
from footy.store.db import CLAIMS
from footy.store.report import goal_summaries
from footy_testbed.embedded import embedded_env
from footy_testbed.services import ServiceStack

ROOT = Path(__file__).resolve().parents[2]
DEADLINE_S = 15 * 60

HAALAND, MARTINELLI = "3001_50_1100_normal_1", "3001_42_g-martinelli_normal_1"
FODEN, SALAH = "3001_50_631_normal_1", "3002_40_306_penalty_1"
KEEPERS = {  # goal -> the source ids of its kept clips (best copy of each distinct clip)
    HAALAND: {"1900000000000300001", "1900000000000300003"},  # broadcast + behind the goal
    MARTINELLI: {"1hc0011"},  # r/soccer's 1080p copy beats X's 720p one
    SALAH: {"1900000000000300031"},
}
DUPLICATES = {"1900000000000300002": "1900000000000300001",  # logo + crop re-upload
              "1hc0001": "1900000000000300001",  # r/soccer's lower-bitrate copy
              "1900000000000300011": "1hc0011",
              "1900000000000300032": "1900000000000300031"}
REJECTED = {"1hc0031": ["no_video"]}  # an r/soccer goal post linking to a page
ANNOUNCED = {  # publish_clips' text -> how many keepers it announces (one post each)
    "E. Haaland 10' - Manchester City [1] - 0 Arsenal": 2,
    "G. Martinelli 20' - Manchester City 1 - [1] Arsenal": 1,
    "Mohamed Salah (pen) 13' - Liverpool [1] - 0 Chelsea": 1,
}
FODEN_TEXT = "P. Foden 27'"


def stack_env(mongo_uri: str, tmp_path: Path, airflow_port: int, standin_port: int,
              **extra: str) -> dict[str, str]:  # fmt: skip
    """The environment of a stack of the test's own: its state, database, storage, ports."""
    env = {
        **os.environ,
        **embedded_env(ROOT, standin_url=f"http://127.0.0.1:{standin_port}",
                       mongo_uri=mongo_uri, league_ids=[39], season=2025),
        "FOOTY_STATE_DIR": str(tmp_path / "state"),
        "AIRFLOW_HOME": str(tmp_path / "airflow"),
        "FOOTY_MONGO_DB": f"footy_e2e_{tmp_path.name[-12:]}_{int(time.time())}",
        "FOOTY_STORAGE_URL": (tmp_path / "storage").as_uri(),
        "FOOTY_AIRFLOW_PORT": str(airflow_port),
        "FOOTY_STANDIN_PORT": str(standin_port),
        "FOOTY_SCENARIO": "e2e",
        "AIRFLOW_VAR_FOOTY_DISCOVERY": json.dumps(
            {"attempts": 2, "interval_seconds": 15, "enough_clips": 10,
             "sources": ["x", "reddit"]}),
        **extra,
    }
    for key in ("AIRFLOW__CORE__DAGS_FOLDER", "AIRFLOW__CORE__PLUGINS_FOLDER",
                "AIRFLOW__API__BASE_URL", "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"):
        env.pop(key, None)  # scripts/airflow-env derives these for this stack
    return env


def stop_leaving_nothing(running: ServiceStack, tmp_path: Path) -> list[psutil.Process]:
    """Stop the stack; the processes left after the stop (there must be none)."""
    tree = [p for name in running.started for p in running.processes(name)]
    running.stop()
    left = [p for p in tree if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    left += strays(running)
    for log in sorted((tmp_path / "state" / "log").glob("airflow*.log")):
        print(f"{log.name} (tail):\n" + "\n".join(log.read_text().splitlines()[-30:]))
    return left


def done(db) -> bool:
    # Fixtures complete only once every goal is processed and withdrawn goals hold no clip.
    return (db[FIXTURES_COMPLETED].count_documents({}) == 2
            and db[GOALS].count_documents({"status": "confirmed",
                                           "processing_status.completed": False}) == 0)


def progress(db) -> str:
    """Where the day stands, for a failure message: fixtures per bucket, each goal's status
    and stage flags, and the clips per state."""
    buckets = {c: db[c].count_documents({})
               for c in (FIXTURES_STAGING, FIXTURES_ACTIVE, FIXTURES_COMPLETED)}
    flags = ("twitter_scraped", "videos_downloaded", "videos_filtered", "completed")
    goals = {g["_id"]: f"{g.get('status')} "
             + "".join("1" if (g.get("processing_status") or {}).get(f) else "0" for f in flags)
             for g in db[GOALS].find({}, {"status": 1, "processing_status": 1})}
    clips = Counter(v.get("state") for v in db[VIDEOS].find({}, {"state": 1}))
    held = db[CLAIMS].count_documents({"released": {"$ne": True}})
    return (f"fixtures {buckets}; goals (searched/downloaded/filtered/completed) {goals}; "
            f"clips {dict(clips)}; claims held {held}")


def wait_until_done(db, started: float) -> float:
    while not done(db):
        assert time.monotonic() - started < DEADLINE_S, (
            f"the match day did not complete in time: {progress(db)}")
        time.sleep(5)
    return time.monotonic() - started


def assert_end_state(db, storage_root: Path) -> None:
    """Every goal and clip exactly where the scenario says, each kept clip stored once, and
    no claim left held."""
    goals = {g["_id"]: g for g in db[GOALS].find()}
    assert {g for g, d in goals.items() if d["status"] == "confirmed"} == set(KEEPERS)
    assert {g for g, d in goals.items() if d["status"] == "withdrawn"} == {FODEN}
    videos = list(db[VIDEOS].find())
    for goal_id, keepers in KEEPERS.items():
        assert goals[goal_id]["processing_status"]["completed"] is True
        kept = {v["source_id"] for v in videos if v["goal_id"] == goal_id and v["state"] == "kept"}
        assert kept == keepers, goal_id
    by_source = {v["source_id"]: v for v in videos}
    assert len(by_source) == len(videos), "a clip was stored twice"
    for dup, keeper in DUPLICATES.items():
        assert by_source[dup]["state"] == "duplicate"
        assert by_source[dup]["duplicate_of"] == by_source[keeper]["_id"]
    for rejected, reasons in REJECTED.items():
        assert by_source[rejected]["state"] == "rejected"
        assert by_source[rejected]["reject_reasons"] == reasons
    assert {v["source"] for v in videos if v["state"] == "kept"} == {"x", "reddit"}
    assert not [v for v in videos if v["goal_id"] == FODEN and v["state"] in {"stored", "kept"}]

    stored = [o.key for o in LocalClipStorage(storage_root).list()]
    assert sorted(stored) == sorted(v["storage"]["key"] for v in videos if v["state"] == "kept")
    assert not any(FODEN in key for key in stored)
    held = {"released": {"$ne": True}, "expires_at": {"$gt": datetime.now(UTC)}}
    assert list(db[CLAIMS].find(held)) == []


def received(standin_url: str) -> list[dict]:
    answer = requests.get(f"{standin_url}/_standin/received", timeout=10)
    answer.raise_for_status()
    return answer.json()


def wait_until_announced(standin_url: str, limit: float = 180) -> list[dict]:
    """The stand-in Discord channel's posts, once every keeper was announced."""
    deadline = time.monotonic() + limit
    while True:
        posts = received(standin_url)
        texts = Counter(p["content"] for p in posts if p["content"])
        if all(texts[t] >= n for t, n in ANNOUNCED.items()) or time.monotonic() > deadline:
            return posts
        time.sleep(3)


def assert_announced(posts: list[dict]) -> None:
    """Every keeper announced once, with a fan's text and its file; the withdrawn goal, if
    it was announced before VAR took it back, corrected once; nothing else."""
    texts = Counter(p["content"] for p in posts if p["content"])
    foden = [t for t in texts if t.startswith(FODEN_TEXT)]
    corrections = [t for t in texts if t.startswith("Correction")]
    assert {t: n for t, n in texts.items() if t not in foden + corrections} == ANNOUNCED
    assert sum(texts[t] for t in foden) in (0, 1)
    assert len(corrections) == sum(texts[t] for t in foden), (foden, corrections)
    assert all(texts[c] == 1 and "P. Foden" in c for c in corrections)
    files = [f for p in posts for f in p["files"]]
    assert len(files) == sum(ANNOUNCED.values()) + len(foden) and all(f["mp4"] for f in files)


def snapshot(db, storage_root: Path) -> dict:
    docs = {name: sorted(db[name].find({}), key=lambda d: str(d["_id"]))
            for name in (FIXTURES_STAGING, FIXTURES_ACTIVE, FIXTURES_COMPLETED, GOALS, VIDEOS)}
    return {**docs, "objects": [(o.key, o.size) for o in LocalClipStorage(storage_root).list()]}


def report_figures(record_property, layout: str, elapsed: float, runs: dict[str, int],
                   db) -> None:  # fmt: skip
    """The day's figures for the session log (tests/conftest.py prints them at the end), so
    the embedded and the distributed runs' latencies stand side by side."""
    lines = [f"match day completed {elapsed:.0f}s after ingest was triggered",
             "DAG runs: " + ", ".join(f"{d} {n}" for d, n in runs.items())]
    for g in goal_summaries(db):
        first, finished = g["seconds_to_first_keeper"], g["seconds_to_completed"]
        lines.append(f"{g['label']}: {g['status']}; after confirmation: first keeper "
                     f"{'-' if first is None else f'{first:.0f}s'}, completed "
                     f"{'-' if finished is None else f'{finished:.0f}s'}")
    for line in lines:
        record_property("figures", f"e2e ({layout}): {line}")


def kill(airflow: ServiceStack, component: str) -> int:
    proc = airflow.component(component)
    assert proc is not None, f"no {component} running"
    proc.kill()  # SIGKILL: no chance to clean up
    return proc.pid


def restarted(airflow: ServiceStack, component: str, old_pid: int, limit: float = 60) -> bool:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        proc = airflow.component(component)
        if proc is not None and proc.pid != old_pid:
            return True
        time.sleep(1)
    return False


def strays(airflow: ServiceStack) -> list[psutil.Process]:
    """Airflow processes of this stack (by AIRFLOW_HOME) outside the supervisor's tree."""
    tree = {p.pid for p in airflow.processes("airflow")}
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        try:
            if (proc.pid not in tree and "airflow" in " ".join(proc.info["cmdline"] or [])
                    and proc.environ().get("AIRFLOW_HOME") == airflow.env["AIRFLOW_HOME"]):
                found.append(proc)
        except psutil.Error:
            continue
    return found


def mongo_uri_of(env: dict[str, str]) -> str:
    return env["AIRFLOW_CONN_MONGO_DEFAULT"].replace("mongo://", "mongodb://", 1)
