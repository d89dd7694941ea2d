"""publish_clips' stage logic against FerretDB, a local-folder ClipStorage holding a real
H.264 clip, and the stand-in's Discord-protocol and generic JSON webhook receivers, reached
through Apprise (its own Discord plugin, pointed at the stand-in)."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from footy.pipeline.publish import publish_goal
from footy.publish.routing import PublishConfig
from footy.publish.send import ENV_PLUGIN_PATHS, send
from footy.storage import LocalClipStorage, clip_key
from footy.store import FIXTURES_ACTIVE, GOALS, VIDEOS, new_processing_status
from footy.store import publications as pubs
from footy.store.goals import withdraw_goal
from footy_testbed import clipgen
from footy_testbed.apprise_plugins import discord_standin
from footy_testbed.standin.receivers import received
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 5, 15, 30, tzinfo=UTC)
GOAL = "5001_50_1100_normal_1"
WEBHOOK = "/api/webhooks/1234567890/standin-token"
PLUGINS = discord_standin.__file__


@pytest.fixture(scope="module")
def standin():
    handle = start_in_thread("test_matchday", paused_at=0)
    yield handle
    handle.stop()


@pytest.fixture(autouse=True)
def receivers(standin, monkeypatch):
    monkeypatch.setenv(ENV_PLUGIN_PATHS, PLUGINS)
    monkeypatch.setenv(discord_standin.ENV_API_URL, f"{standin.url}/api/webhooks")
    standin.world.clear_faults()
    standin.world.state.pop("receivers", None)
    with standin.world.lock:
        standin.world.requests.clear()
    yield
    standin.world.clear_faults()


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    cache = Path(os.environ.get("FOOTY_CLIP_CACHE") or tmp_path_factory.mktemp("clips"))
    return clipgen.render_cached(clipgen.ClipSpec(21, duration=4.0, width=640, height=360),
                                 cache)  # fmt: skip


@pytest.fixture
def storage(tmp_path) -> LocalClipStorage:
    return LocalClipStorage(tmp_path / "store")


def urls(standin) -> dict[str, list[str]]:
    port = standin.port
    return {"footy_discord": ["discordstandin://1234567890/standin-token"],
            "footy_webhook": [f"json://127.0.0.1:{port}/hooks/goals"]}


def sender(standin, attempts: int = 5):
    channels = urls(standin)

    def deliver(conn_id: str, text: str, attachment: Path | None) -> None:
        send(channels[conn_id], text, attachment=attachment, attempts=attempts, wait=0.05)

    return deliver


def config(**link) -> PublishConfig:
    return PublishConfig.from_dict({"channels": [
        {"conn_id": "footy_discord", "leagues": [39], "max_upload_mb": 8},
        {"conn_id": "footy_webhook", "teams": ["Arsenal"], "upload": False},
    ], "link": {"public_base_url": "https://clips.example.org", **link}})  # fmt: skip


def seed(db, storage, clip: Path, *, video: str = "x:1", league: int = 39) -> str:
    """A confirmed goal (City's first, 23') with one kept clip in storage."""
    db[FIXTURES_ACTIVE].insert_one({"_id": 5001, "fixture": {
        "home_team_id": 50, "home_team_name": "Manchester City", "away_team_id": 42,
        "away_team_name": "Arsenal"}, "debounce": {GOAL: {
            "goal_id": GOAL, "team_id": 50, "kind": "normal", "elapsed": 23, "extra": None,
            "state": "confirmed"}}})  # fmt: skip
    db[GOALS].insert_one({
        "_id": GOAL, "status": "confirmed", "fixture_id": 5001, "team_id": 50,
        "team_name": "Manchester City", "opponent_name": "Arsenal", "player_name": "E. Haaland",
        "detail": "Normal Goal", "elapsed": 23, "extra": None, "league_id": league,
        "fixture_label": "Manchester City v Arsenal",
        "label": "E. Haaland 23' Manchester City v Arsenal",
        "processing_status": new_processing_status(NOW)})  # fmt: skip
    return keep(db, storage, clip, video)


def keep(db, storage, clip: Path, video: str) -> str:
    sha = hashlib.sha256(clip.read_bytes() + video.encode()).hexdigest()
    key = clip_key(5001, GOAL, sha)
    obj = storage.put(clip, key, {"goal_id": GOAL}, clip.stat().st_size)
    source, source_id = video.split(":")
    vid = f"{GOAL}:{video}"
    db[VIDEOS].insert_one({"_id": vid, "goal_id": GOAL, "source": source,
                           "source_id": source_id, "state": "kept",
                           "storage": {"key": key, "url": obj.url, "size": obj.size}})  # fmt: skip
    return vid


def publish(db, storage, standin, cfg=None, *, now=NOW, attempts: int = 5):
    return publish_goal(db, GOAL, storage, cfg or config(), sender(standin, attempts),
                        owner="test", now=now)  # fmt: skip


def test_each_keeper_reaches_each_channel_once(db, storage, standin, clip):
    vid = seed(db, storage, clip)
    first = publish(db, storage, standin)
    assert first["outcomes"] == {f"{vid} -> footy_discord": "sent",
                                 f"{vid} -> footy_webhook": "sent"}
    # Apprise posts the text, then the file, as Discord shows them: two posts, once each.
    discord = received(standin.world, "discord:1234567890")
    assert [m["content"] for m in discord] == [
        "E. Haaland 23' - Manchester City [1] - 0 Arsenal", ""]
    assert [f["mp4"] for f in discord[1]["files"]] == [True]  # the clip itself, uploaded
    hook = received(standin.world, "hooks:goals")
    assert len(hook) == 1 and hook[0]["files"] == []  # upload: false -> a link
    assert "E. Haaland 23' - Manchester City [1] - 0 Arsenal" in hook[0]["content"]
    assert "https://clips.example.org/5001/" in hook[0]["content"]

    # A retried task, a re-run, a second run at once: nothing is sent again.
    again = publish(db, storage, standin, now=NOW + timedelta(minutes=5))
    assert set(again["outcomes"].values()) == {"skipped"}
    assert len(received(standin.world)) == 3


def test_rate_limits_and_errors_then_success_arrive_once(db, storage, standin, clip):
    seed(db, storage, clip)
    standin.world.add_fault(WEBHOOK, "discord_rate_limit", count=3, seconds=0.2)
    standin.world.add_fault(WEBHOOK, "500", count=1)
    result = publish(db, storage, standin)
    assert set(result["outcomes"].values()) == {"sent"}
    posts = received(standin.world, "discord:1234567890")
    assert [bool(m["content"]) for m in posts] == [True, False]  # the text once, the file once
    statuses = [r["status"] for r in standin.world.requests_for(WEBHOOK)]
    assert statuses == [429, 429, 429, 500, 204, 204]


def test_a_failed_upload_is_retried_without_posting_the_text_again(db, storage, standin, clip):
    seed(db, storage, clip)
    # the text goes through; the file upload right after it fails once
    standin.world.add_fault(WEBHOOK, "discord_upload_error", count=2)
    result = publish(db, storage, standin)
    assert set(result["outcomes"].values()) == {"sent"}
    posts = received(standin.world, "discord:1234567890")
    assert [(bool(m["content"]), len(m["files"])) for m in posts] == [(True, 0), (False, 1)]
    statuses = [r["status"] for r in standin.world.requests_for(WEBHOOK)]
    assert statuses == [204, 500, 204]


def test_a_channel_that_keeps_refusing_is_recorded_and_tried_again(db, storage, standin, clip):
    vid = seed(db, storage, clip)
    standin.world.add_fault(WEBHOOK, "503", count=10)
    result = publish(db, storage, standin, attempts=2)
    assert result["outcomes"][f"{vid} -> footy_discord"] == "failed"
    goal = db[GOALS].find_one({"_id": GOAL})["processing_status"]["publish"]
    assert goal["last_error"]["type"] == "ChannelRefusedError"
    assert goal["last_error"]["channel"] == "footy_discord"
    key = pubs.publication_key(GOAL, vid, "footy_discord")
    assert pubs.latest(db, key)["state"] == "failed"
    standin.world.clear_faults()
    retry = publish(db, storage, standin, now=NOW + timedelta(minutes=1))
    assert retry["outcomes"][f"{vid} -> footy_discord"] == "sent"
    assert pubs.latest(db, key)["n"] == 2
    assert len(received(standin.world, "discord:1234567890")) == 2  # its text and its file


def test_a_crash_between_record_and_send_is_uncertain_until_resolved(db, storage, standin,
                                                                      clip):  # fmt: skip
    vid = seed(db, storage, clip)
    key = pubs.publication_key(GOAL, vid, "footy_discord")
    # A worker recorded the try and died before completing it.
    assert pubs.begin(db, key, {"goal_id": GOAL, "channel": "footy_discord"}, "dead", NOW,
                      timedelta(minutes=2)) is not None  # fmt: skip
    later = NOW + timedelta(minutes=5)
    result = publish(db, storage, standin, now=later)
    assert result["outcomes"][f"{vid} -> footy_discord"] == "skipped"
    assert received(standin.world, "discord:1234567890") == []
    assert [d["key"] for d in pubs.uncertain(db, later)] == [key]
    assert pubs.counts(db, later) == {"uncertain": 1, "sent": 1}
    # The operator checked the channel: it never arrived.
    assert pubs.resolve(db, key, "failed", "operator", later)
    publish(db, storage, standin, now=later + timedelta(minutes=1))
    assert len(received(standin.world, "discord:1234567890")) == 2  # its text and its file


def test_a_better_copy_is_not_announced_again(db, storage, standin, clip):
    first = seed(db, storage, clip)
    publish(db, storage, standin)
    better = keep(db, storage, clip, "reddit:1hz0001")
    db[VIDEOS].update_one({"_id": first}, {"$set": {"state": "duplicate",
                                                   "duplicate_of": better}})  # fmt: skip
    result = publish(db, storage, standin, now=NOW + timedelta(minutes=2))
    assert result["outcomes"][f"{better} -> footy_discord"] == "superseded"
    assert len(received(standin.world)) == 3  # still only the first announcement


def test_a_withdrawn_goal_gets_one_correction_where_it_was_shown(db, storage, standin, clip):
    seed(db, storage, clip)
    publish(db, storage, standin)
    withdraw_goal(db, GOAL, "VAR: offside", NOW + timedelta(minutes=3))
    for minutes in (4, 5):  # a re-run sends no second correction
        publish(db, storage, standin, now=NOW + timedelta(minutes=minutes))
    corrections = [m for m in received(standin.world) if "Correction" in m["content"]
                   or "Correction" in str(m.get("embeds"))]  # fmt: skip
    assert len(corrections) == 2  # one per channel that showed the goal
    assert all("VAR: offside" in (m["content"] + str(m.get("embeds"))) for m in corrections)


def test_routing_by_league_and_team(db, storage, standin, clip):
    seed(db, storage, clip, league=140)  # not the Premier League: only the Arsenal channel
    result = publish(db, storage, standin)
    assert set(result["outcomes"]) == {f"{GOAL}:x:1 -> footy_webhook"}


def test_publish_config_is_validated():
    from footy.errors import ConfigError

    for bad in ({"channels": [{"conn_id": ""}]}, {"channels": [{"conn_id": "a", "leagues": "39"}]},
                {"channels": [{"conn_id": "a"}, {"conn_id": "a"}]}, {"chanels": []},
                {"link": {"presign_seconds": 10}}, {"attempts": 0}):
        with pytest.raises(ConfigError):
            PublishConfig.from_dict(bad)


def test_an_own_goal_counts_for_the_team_the_feed_credits(db):
    from footy.pipeline.publish import scoreline
    from footy.publish.message import goal_text

    tracks = {
        "h": {"goal_id": "h", "team_id": 50, "kind": "normal", "elapsed": 12, "state": "confirmed"},
        "m": {"goal_id": "m", "team_id": 42, "kind": "normal", "elapsed": 31, "state": "confirmed"},
        "f": {"goal_id": "f", "team_id": 50, "kind": "normal", "elapsed": 45, "state": "withdrawn"},
        "d": {"goal_id": "d", "team_id": 42, "kind": "own", "elapsed": 58, "state": "confirmed"},
    }  # fmt: skip
    db[FIXTURES_ACTIVE].insert_one({"_id": 5001, "debounce": tracks, "fixture": {
        "home_team_id": 50, "home_team_name": "Manchester City", "away_team_id": 42,
        "away_team_name": "Arsenal"}})  # fmt: skip
    dias = {"_id": "d", "fixture_id": 5001, "team_id": 42, "player_name": "Rúben Dias",
            "detail": "Own Goal", "elapsed": 58, "extra": None}  # fmt: skip
    assert goal_text(dias, scoreline(db, dias)) == (
        "Rúben Dias (OG) 58' - Manchester City 1 - [2] Arsenal")
