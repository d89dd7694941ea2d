"""X and Reddit on the same goal, through the real discovery, download and filter stages:
each source searched with its own state, each clip fetched from its own hosts, and the copies
of one broadcast from both sources deduplicated into one keeper."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from replay import replay_until

from footy.pipeline.discover import DiscoveryConfig, discover_goal
from footy.pipeline.download import DownloadSettings, download_goal
from footy.pipeline.filter import FilterConfig, filter_goal
from footy.sources.reddit import RedditSource
from footy.sources.x_api import SEARCH_PATH, XApiSource
from footy.storage import LocalClipStorage
from footy.store import GOALS, VIDEOS, Stage, claim_goal
from footy_testbed.standin.reddit import LISTING_PREFIX
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration

BASE = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
SALAH = "4001_40_306_penalty_1"
CFG = DiscoveryConfig(attempts=3, interval=timedelta(seconds=2), enough_clips=10)
SCENE = {"scene": 14, "duration": 6.0}

SCENARIO: dict[str, Any] = {
    "name": "sources_together",
    "settings": {"page_size": 5, "x_bearer_token": "x-token",
                 "reddit_client_id": "app", "reddit_client_secret": "secret"},
    "fixtures": [{
        "id": 4001, "kickoff": 5, "minute_seconds": 1.0, "totals_lag": 2,
        "league": {"id": 39, "name": "Premier League", "season": 2025},
        "home": {"id": 40, "name": "Liverpool"}, "away": {"id": 49, "name": "Chelsea"},
        "timeline": [{"t": 0, "status": "NS"}, {"t": 5, "status": "1H"}],
        "events": [{
            "key": "salah", "t": 18, "elapsed": 13, "team": "home",
            "player": {"id": 306, "name": "Mohamed Salah"}, "type": "Goal", "detail": "Penalty",
            "clips": [{"id": "1900000000000400001", "after": 3, "text": "Salah penalty!",
                       "video": SCENE}],
            "reddit": [
                # the same broadcast, better: 1080p at a higher bitrate, with sound
                {"id": "1hb0001", "after": 5,
                 "video": {**SCENE, "width": 1920, "height": 1080, "bitrate_kbps": 5000}},
                {"id": "1hb0002", "after": 6, "host": "link"},
            ],
        }],
    }],
}  # fmt: skip


@pytest.fixture
def standin():
    handle = start_in_thread(SCENARIO, base_time=BASE, paused_at=0)
    yield handle
    handle.stop()


@pytest.fixture
def x(standin) -> XApiSource:
    return XApiSource(standin.url, "x-token", timeout=(2, 5), max_attempts=2,
                      backoff_initial=0.01)  # fmt: skip


@pytest.fixture
def reddit(standin) -> RedditSource:
    return RedditSource(standin.url, "app", "secret", "python:footy-tests:1.0 (by /u/footy)",
                        auth_url=standin.url, timeout=(2, 5), max_attempts=2,
                        backoff_initial=0.01)  # fmt: skip


@pytest.fixture
def salah(db, standin) -> str:
    replay_until(db, standin, BASE, 24, leagues=[39])
    assert db[GOALS].find_one({"_id": SALAH})["status"] == "confirmed"
    return SALAH


def search(db, standin, sources, t: float, **kw):
    standin.world.clock.set(t)
    return discover_goal(db, sources, SALAH, owner="test", now=BASE + timedelta(seconds=t),
                         cfg=kw.pop("cfg", CFG), **kw)  # fmt: skip


def videos(db) -> dict[str, dict]:
    return {f"{v['source']}:{v['source_id']}": v for v in db[VIDEOS].find({"goal_id": SALAH})}


def test_both_sources_end_as_one_keeper(db, standin, x, reddit, salah, tmp_path, monkeypatch):
    result = search(db, standin, [x, reddit], 30)
    assert result["status"] == "searched" and result["new_by_source"] == {"x": 1, "reddit": 2}
    found = videos(db)
    assert {k: v["state"] for k, v in found.items()} == {
        "x:1900000000000400001": "candidate", "reddit:1hb0001": "candidate",
        "reddit:1hb0002": "rejected"}
    assert found["reddit:1hb0002"]["reject_reasons"] == ["no_video"]
    status = db[GOALS].find_one({"_id": SALAH})["processing_status"]["search"]["sources"]
    assert status["reddit"]["since_id"] == "t3_1hb0002"
    assert status["x"]["since_id"] == "1900000000000400001"

    # The window runs out; each clip then comes from its own source's hosts.
    for t in (32, 34):
        search(db, standin, [x, reddit], t)
    netloc = f"127.0.0.1:{standin.port}"
    monkeypatch.setenv("FOOTY_X_MEDIA_HOSTS", netloc)
    monkeypatch.setenv("FOOTY_REDDIT_MEDIA_HOSTS", netloc)
    monkeypatch.setenv("FOOTY_DOWNLOAD_ALLOW_PRIVATE", "1")
    storage = LocalClipStorage(tmp_path / "store")
    settings = DownloadSettings.from_env({"FOOTY_DOWNLOAD_WORK_DIR": str(tmp_path / "work")})
    downloaded = download_goal(db, SALAH, storage, owner="test", settings=settings,
                               now=BASE + timedelta(seconds=40))  # fmt: skip
    assert sorted(downloaded["stored"]) == sorted(
        [f"{SALAH}:x:1900000000000400001", f"{SALAH}:reddit:1hb0001"])
    reddit_file = storage.get(videos(db)["reddit:1hb0001"]["storage"]["key"], tmp_path / "r.mp4")
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type",
                            "-of", "json", str(reddit_file)], capture_output=True, check=True)
    assert sorted(s["codec_type"] for s in json.loads(probe.stdout)["streams"]) == [
        "audio", "video"]  # Reddit's separate DASH streams, merged

    now = BASE + timedelta(seconds=50)
    claim = claim_goal(db, Stage.FILTER, SALAH, "test", timedelta(minutes=5), now=now)
    filter_goal(db, storage, SALAH, claim, now, FilterConfig())
    final = videos(db)
    assert final["reddit:1hb0001"]["state"] == "kept"
    assert final["x:1900000000000400001"]["state"] == "duplicate"
    assert final["x:1900000000000400001"]["duplicate_of"] == f"{SALAH}:reddit:1hb0001"


def test_reddit_alone_needs_no_x_account(db, standin, reddit, salah):
    result = search(db, standin, [reddit], 30)
    assert result["new_by_source"] == {"reddit": 2}
    assert standin.world.requests_for(SEARCH_PATH) == []


def test_a_rate_limited_source_does_not_hold_the_other_back(db, standin, x, reddit, salah):
    standin.world.add_fault(SEARCH_PATH, "x_rate_limit", seconds=600)
    first = search(db, standin, [x, reddit], 30)
    assert first["status"] == "searched" and first["unanswered"] == ["x"]
    assert first["new_by_source"] == {"reddit": 2}
    goal = db[GOALS].find_one({"_id": SALAH})["processing_status"]["search"]
    assert goal["attempts"] == 1
    assert goal["sources"]["x"]["last_error"]["type"] == "XRateLimitedError"
    assert goal["sources"]["x"]["rate_limited_until"] > datetime.now(UTC) + timedelta(minutes=9)
    # The next attempt leaves X alone until its reset and still asks Reddit.
    x_calls = len(standin.world.requests_for(SEARCH_PATH))
    second = search(db, standin, [x, reddit], 32)
    assert second["status"] == "searched" and second["unanswered"] == ["x"]
    assert len(standin.world.requests_for(SEARCH_PATH)) == x_calls
    assert len(standin.world.requests_for(f"{LISTING_PREFIX}new")) == 2
