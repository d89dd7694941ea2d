"""publish_clips run with ``dag.test()`` against FerretDB, a local-folder clip store and the
stand-in's Discord webhook API, through an Apprise connection and the footy_publish Variable:
one named task instance per goal, each keeper posted once, re-runs post nothing."""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from footy.storage import LocalClipStorage, clip_key
from footy.store import FIXTURES_ACTIVE, GOALS, VIDEOS, new_processing_status
from footy_testbed import clipgen
from footy_testbed.apprise_plugins import discord_standin
from footy_testbed.standin.receivers import received
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration

GOAL = "5001_50_1100_normal_1"
LABEL = "E. Haaland 23' Manchester City v Arsenal"


@pytest.fixture
def standin(monkeypatch, tmp_path):
    handle = start_in_thread("test_matchday", paused_at=0)
    monkeypatch.setenv("FOOTY_APPRISE_PLUGIN_PATHS", discord_standin.__file__)
    monkeypatch.setenv(discord_standin.ENV_API_URL, f"{handle.url}/api/webhooks")
    monkeypatch.setenv("AIRFLOW_CONN_FOOTY_DISCORD", json.dumps({"conn_type": "apprise", "extra": {
        "config": {"path": "discordstandin://1234567890/dag-test"}}}))
    monkeypatch.setenv("AIRFLOW_VAR_FOOTY_PUBLISH", json.dumps(
        {"channels": [{"conn_id": "footy_discord", "upload": False}],
         "link": {"public_base_url": "https://clips.example.org"}}))
    monkeypatch.setenv("FOOTY_STORAGE_URL", (tmp_path / "store").as_uri())
    yield handle
    handle.stop()


def seed(db, tmp_path: Path) -> None:
    cache = Path(os.environ.get("FOOTY_CLIP_CACHE") or tmp_path / "clips")
    clip = clipgen.render_cached(clipgen.ClipSpec(21, duration=4.0, width=640, height=360), cache)
    key = clip_key(5001, GOAL, hashlib.sha256(clip.read_bytes()).hexdigest())
    obj = LocalClipStorage(tmp_path / "store").put(clip, key, {}, clip.stat().st_size)
    db[FIXTURES_ACTIVE].insert_one({"_id": 5001, "fixture": {
        "home_team_id": 50, "home_team_name": "Manchester City", "away_team_name": "Arsenal"},
        "debounce": {GOAL: {"goal_id": GOAL, "team_id": 50, "kind": "normal", "elapsed": 23,
                            "state": "confirmed"}}})  # fmt: skip
    db[GOALS].insert_one({
        "_id": GOAL, "status": "confirmed", "fixture_id": 5001, "team_id": 50, "label": LABEL,
        "team_name": "Manchester City", "opponent_name": "Arsenal", "player_name": "E. Haaland",
        "detail": "Normal Goal", "elapsed": 23, "league_id": 39,
        "processing_status": new_processing_status(datetime.now(UTC))})  # fmt: skip
    db[VIDEOS].insert_one({"_id": f"{GOAL}:x:1", "goal_id": GOAL, "source": "x",
                           "source_id": "1", "state": "kept",
                           "storage": {"key": key, "url": obj.url, "size": obj.size}})  # fmt: skip


def test_publish_clips_dag(dags, db, standin, tmp_path):
    seed(db, tmp_path)
    dag = dags["publish_clips"]
    run = dag.test(run_conf={"goal_ids": [GOAL]})
    assert run.state == "success"
    tis = {(ti.task_id, ti.rendered_map_index): ti.state for ti in run.get_task_instances()}
    assert tis[("publish_goal", LABEL)] == "success"
    posts = received(standin.world, "discord:1234567890")
    assert [p["content"] for p in posts] == [
        f"E. Haaland 23' - Manchester City [1] - 0 Arsenal\nhttps://clips.example.org/5001/{GOAL}/"
        + posts[0]["content"].rsplit("/", 1)[-1]]
    # Again: everything was published before, so the goal's task is skipped, naming why.
    again = dag.test(run_conf={"goal_ids": [GOAL]})
    assert again.state == "success"
    assert {ti.state for ti in again.get_task_instances() if ti.task_id == "publish_goal"} == {
        "skipped"}
    assert len(received(standin.world)) == 1
