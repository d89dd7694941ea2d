"""download_videos run with ``dag.test()`` against FerretDB, the stand-in clip host (real
yt-dlp downloads) and a local-folder clip store: one named task instance per goal, a failed
clip never fails its goal, goals without candidates are finished, and re-runs change
nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from footy.storage import LocalClipStorage
from footy.store import CLAIMS, GOALS, VIDEOS, new_processing_status
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration

FIXTURE = 2001
CLIPS, EMPTY, SEARCHING, WITHDRAWN = (
    "2001_50_1100_normal_1", "2001_42_567_own_1", "2001_50_1100_penalty_1",
    "2001_50_631_normal_1",
)  # fmt: skip
LABELS = {
    CLIPS: "E. Haaland 11' Manchester City v Arsenal",
    EMPTY: "R. Dias 39' Manchester City v Arsenal",
    SEARCHING: "E. Haaland 90+3' Manchester City v Arsenal",
    WITHDRAWN: "P. Foden 30' Manchester City v Arsenal",
}
GOOD, PORTRAIT, OTHER = "1900000000000077001", "1900000000000083004", "1900000000000189001"


@pytest.fixture
def standin(monkeypatch):
    handle = start_in_thread("test_matchday", paused_at=0)
    monkeypatch.setenv("FOOTY_X_MEDIA_HOSTS", "127.0.0.1")
    monkeypatch.setenv("FOOTY_DOWNLOAD_ALLOW_PRIVATE", "1")
    yield handle
    handle.stop()


@pytest.fixture
def storage(tmp_path, monkeypatch) -> LocalClipStorage:
    root = tmp_path / "store"
    monkeypatch.setenv("FOOTY_STORAGE_URL", root.as_uri())
    monkeypatch.setenv("FOOTY_DOWNLOAD_WORK_DIR", str(tmp_path / "work"))
    return LocalClipStorage(root)


@pytest.fixture(scope="module")
def download_pool(airflow_db):
    """The pool the DAG's doc asks operators to create."""
    subprocess.run([sys.executable, "-m", "airflow", "pools", "set", "footy_downloads", "4",
                    "download_videos: goals downloading at once"],
                   check=True, capture_output=True, env=os.environ.copy())  # fmt: skip


def _goal(db, goal_id: str, *, status: str = "confirmed", scraped: bool = True) -> None:
    ps = new_processing_status(datetime.now(UTC))
    ps["twitter_scraped"] = scraped
    db[GOALS].insert_one({
        "_id": goal_id, "status": status, "fixture_id": FIXTURE, "label": LABELS[goal_id],
        "player_name": LABELS[goal_id].split(" ")[1], "team_name": "Manchester City",
        "minute": LABELS[goal_id].split(" ")[2], "processing_status": ps,
    })  # fmt: skip


def _candidate(db, standin, goal_id: str, tweet_id: str) -> str:
    video_id = f"{goal_id}:x:{tweet_id}"
    db[VIDEOS].insert_one({
        "_id": video_id, "goal_id": goal_id, "source": "x", "source_id": tweet_id,
        "post_url": f"https://x.com/i/status/{tweet_id}",
        "media_url": f"{standin.url}/media/{tweet_id}.mp4", "posted_at": datetime.now(UTC),
        "width": 1280, "height": 720, "duration_s": 8.0, "bitrate": 2_500_000,
        "text": "goal", "popularity": 1, "state": "candidate",
    })  # fmt: skip
    return video_id


def _snapshot(db, storage) -> dict:
    out = {c: sorted(db[c].find({}), key=lambda d: str(d["_id"])) for c in (GOALS, VIDEOS, CLAIMS)}
    out["objects"] = [(o.key, o.size) for o in storage.list()]
    return out


def test_download_videos_dag(dags, db, standin, storage, download_pool, short_sensor_timeouts):
    dag = dags["download_videos"]
    short_sensor_timeouts(dag)
    _goal(db, CLIPS)
    good = _candidate(db, standin, CLIPS, GOOD)
    portrait = _candidate(db, standin, CLIPS, PORTRAIT)
    _goal(db, EMPTY)  # searched, nothing found
    _goal(db, SEARCHING, scraped=False)
    early = _candidate(db, standin, SEARCHING, OTHER)
    _goal(db, WITHDRAWN, status="withdrawn")
    held = _candidate(db, standin, WITHDRAWN, GOOD)

    run = dag.test()

    tis = {ti.task_id: ti for ti in run.get_task_instances() if ti.map_index < 0}
    mapped = {ti.rendered_map_index: ti.state for ti in run.get_task_instances()
              if ti.task_id == "download_goal"}  # fmt: skip
    assert mapped == {LABELS[g]: "success" for g in (CLIPS, EMPTY, SEARCHING)}
    assert tis["select_goals"].state == "success"
    assert tis["announce_stored_clips"].state == "success"
    videos = {d["_id"]: d for d in db[VIDEOS].find()}
    assert videos[good]["state"] == "stored" and videos[early]["state"] == "stored"
    assert videos[portrait]["state"] == "failed"
    assert videos[portrait]["download"]["error"]["type"] == "GateRejectedError"
    assert videos[held]["state"] == "candidate"  # withdrawn goal: not downloaded
    downloaded = {g["_id"]: g["processing_status"]["videos_downloaded"] for g in db[GOALS].find()}
    assert downloaded == {CLIPS: True, EMPTY: True, SEARCHING: False, WITHDRAWN: False}
    assert sorted(o.key for o in storage.list()) == sorted(
        videos[v]["storage"]["key"] for v in (good, early)
    )

    # Nothing due: select_goals waits, times out, finds nothing to do, and nothing changes.
    before = _snapshot(db, storage)
    rerun = dag.test()
    states = {ti.task_id: ti.state for ti in rerun.get_task_instances()}
    assert states["select_goals"] == "skipped" and states["announce_stored_clips"] == "skipped"
    assert _snapshot(db, storage) == before

    # By hand: the named goals only; force retries the failed clip (rejected again).
    manual = dag.test(run_conf={"goal_ids": [CLIPS], "force": True})
    assert {ti.rendered_map_index: ti.state for ti in manual.get_task_instances()
            if ti.task_id == "download_goal"} == {LABELS[CLIPS]: "success"}  # fmt: skip
    video = db[VIDEOS].find_one({"_id": portrait})
    assert video["state"] == "failed" and video["download"]["forced_at"]
    assert len(storage.list()) == 2

    # A goal still searched with nothing due: the visit changes nothing and ends skipped.
    idle = dag.test(run_conf={"goal_ids": [SEARCHING]})
    assert {ti.rendered_map_index: ti.state for ti in idle.get_task_instances()
            if ti.task_id == "download_goal"} == {LABELS[SEARCHING]: "skipped"}  # fmt: skip
    assert {ti.task_id: ti.state for ti in idle.get_task_instances()}[
        "announce_stored_clips"] == "skipped"


def test_bad_manual_conf_is_refused(dags):
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        dags["download_videos"].test(run_conf={"goal_ids": "2001_50_1100_normal_1"})
    with pytest.raises(ParamValidationError):
        dags["download_videos"].test(run_conf={"goal_ids": [], "force": "yes"})


def test_clip_storage_follows_the_storage_url(tmp_path, monkeypatch):
    """``s3://`` goes through the Amazon provider's S3Hook on ``aws_default`` (here a moto
    server); ``file://`` is a folder; unset is the embedded default."""
    import json

    import boto3
    from moto.server import ThreadedMotoServer

    from footy.storage import S3ClipStorage
    from footy_airflow.storage import DEFAULT_STORAGE_URL, clip_storage

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        monkeypatch.setenv("AIRFLOW_CONN_AWS_DEFAULT", json.dumps({
            "conn_type": "aws", "login": "testing", "password": "testing",
            "extra": {"endpoint_url": endpoint, "region_name": "us-east-1"},
        }))  # fmt: skip
        boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                     aws_secret_access_key="testing",
                     region_name="us-east-1").create_bucket(Bucket="clips")  # fmt: skip
        monkeypatch.setenv("FOOTY_STORAGE_URL", "s3://clips/footy")
        s3 = clip_storage()
        assert isinstance(s3, S3ClipStorage) and (s3.bucket, s3.prefix) == ("clips", "footy")
        src = tmp_path / "a.mp4"
        src.write_bytes(b"x" * 1000)
        key = "1/g/0123456789abcdef.mp4"
        assert s3.put(src, key, {"goal_id": "g"}, 1000).url == f"s3://clips/footy/{key}"
        assert s3.metadata(key) == {"goal_id": "g"}
    finally:
        server.stop()
    monkeypatch.setenv("FOOTY_STORAGE_URL", (tmp_path / "store").as_uri())
    assert isinstance(clip_storage(), LocalClipStorage)
    monkeypatch.delenv("FOOTY_STORAGE_URL")
    default = clip_storage()
    assert isinstance(default, LocalClipStorage)
    assert default.root.as_uri() == DEFAULT_STORAGE_URL and DEFAULT_STORAGE_URL.endswith(
        "/.footy/storage")
