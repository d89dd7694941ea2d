"""The e2e match day on the distributed stack, with one Celery worker and one triggerer lost.

`FOOTY_AIRFLOW_LAYOUT=distributed` (what `make run-distributed` starts): PostgreSQL as
Airflow's metadata database, Redis as the Celery broker, the CeleryExecutor with two workers
(worker-1 also serves the `downloads` queue), two triggerers, the scheduler, the
dag-processor and the API server, each its own process on 127.0.0.1.

During the day worker-1 is killed with SIGKILL in the middle of a download (the stand-in
streams that clip slowly, so the kill lands mid-stream), and triggerer-1 is frozen
(SIGSTOP) while sensors and watchers are deferred, once the VAR-cancelled goal is confirmed:
its triggers must move to triggerer-2.
The end state is asserted exactly as on the embedded stack: every goal completes once, each
clip is stored once, no claim stays held.
"""

from __future__ import annotations

import shutil
import signal
import socket
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil
import pytest
import requests
from matchday import (
    FODEN,
    assert_announced,
    assert_end_state,
    done,
    mongo_uri_of,
    progress,
    report_figures,
    restarted,
    stack_env,
    stop_leaving_nothing,
    wait_until_announced,
    wait_until_done,
)

from footy.store import GOALS, VIDEOS, connect
from footy.store.db import CLAIMS
from footy.store.downloads import CLIP_CLAIM_STAGE
from footy_testbed.services import STAGE_DAGS, ServiceStack

pytestmark = pytest.mark.integration

AIRFLOW_PORT, STANDIN_PORT = 8188, 8198
SLOW_CLIP = "1900000000000300001"  # Haaland, the broadcast: streamed slowly once


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_dir():
    """PostgreSQL's folder, where the postgres user can reach it (pytest's tmp is 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="footy-e2e-postgres-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def stack(mongo_uri, tmp_path, postgres_dir):
    env = stack_env(mongo_uri, tmp_path, AIRFLOW_PORT, STANDIN_PORT,
                    FOOTY_AIRFLOW_LAYOUT="distributed", FOOTY_POSTGRES_DIR=str(postgres_dir),
                    FOOTY_POSTGRES_PORT=str(_free_port()), FOOTY_REDIS_PORT=str(_free_port()))
    running = ServiceStack(env)
    frozen: list[psutil.Process] = []
    try:
        for name in ("postgres", "redis", "airflow"):
            running.start(name)
        yield running, frozen
    finally:
        for proc in frozen:  # a frozen triggerer must be able to hear the stop
            proc.send_signal(signal.SIGCONT)
        assert not stop_leaving_nothing(running, tmp_path), "processes left after stop"


def test_match_day_survives_a_killed_worker_and_a_frozen_triggerer(stack, tmp_path,
                                                                 record_property):
    airflow, frozen = stack
    airflow.wait_for_dags()
    airflow.cli("pools", "set", "footy_downloads", "4", "e2e")
    airflow.unpause()
    airflow.start("standin")  # the match day starts now
    standin = f"http://127.0.0.1:{STANDIN_PORT}"
    requests.post(f"{standin}/_standin/faults", timeout=10, json={
        "path": f"/media/{SLOW_CLIP}.mp4", "kind": "media_slow", "rate": 40_000, "count": 2,
    }).raise_for_status()
    listening = airflow.listening()
    assert listening and all(ip in {"127.0.0.1", "::1"} for _, ip, _ in listening), listening
    airflow.trigger("ingest_fixtures", {"date": datetime.now(UTC).date().isoformat()})

    db = connect(mongo_uri_of(airflow.env), airflow.env["FOOTY_MONGO_DB"])
    started, worker = time.monotonic(), None
    while not done(db) and (worker is None or not frozen):
        assert time.monotonic() - started < 10 * 60, (
            f"after 10 minutes: worker-1 killed: {worker is not None}, triggerer-1 frozen: "
            f"{bool(frozen)}; {progress(db)}")
        if not frozen and db[GOALS].count_documents({"_id": FODEN}):
            # Goals in flight, sensors and watchers deferred: one triggerer hangs. Not before
            # the VAR-cancelled goal is confirmed: its triggers (the live poll's watcher among
            # them) move only once the triggerer counts as dead, and a poll gap that long
            # would keep that goal from being confirmed within its 80 s on the scoreboard.
            triggerer = airflow.component("triggerer-1")
            triggerer.send_signal(signal.SIGSTOP)
            frozen.append(triggerer)
        slow = db[VIDEOS].find_one({"source_id": SLOW_CLIP})
        if worker is None and slow and db[CLAIMS].find_one(
                {"stage": CLIP_CLAIM_STAGE, "goal_id": slow["_id"], "released": {"$ne": True}}):
            time.sleep(3)  # well into the stream
            assert db[VIDEOS].find_one({"_id": slow["_id"]})["state"] == "candidate"
            worker = airflow.component("worker-1")
            worker.kill()  # SIGKILL mid-download: the worker and its task process
        time.sleep(0.5)
    assert worker is not None and frozen, "the kills did not happen"

    elapsed = wait_until_done(db, started)
    assert restarted(airflow, "worker-1", worker.pid)
    assert frozen[0].status() == psutil.STATUS_STOPPED  # the day finished without it
    assert_end_state(db, tmp_path / "storage")
    assert db[VIDEOS].find_one({"source_id": SLOW_CLIP})["state"] == "kept"
    assert_announced(wait_until_announced(
        f"http://127.0.0.1:{airflow.env['FOOTY_STANDIN_PORT']}"))

    report_figures(record_property, "distributed", elapsed,
                   {d: airflow.run_count(d) for d in STAGE_DAGS}, db)
