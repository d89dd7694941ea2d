"""The real Reddit client against the stand-in Reddit (OAuth, listings, DASH video, faults)."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from footy.download import SPLIT_STREAMS_FORMAT, UrlPolicy, download
from footy.errors import ConfigError, PayloadError
from footy.sources import GoalQuery, create_source
from footy.sources.reddit import RedditAuthError, RedditRateLimitedError, RedditSource
from footy_testbed.standin.reddit import LISTING_PREFIX, scenario_posts
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration

CLIENT_ID, SECRET = "standin-app", "standin-secret"
AGENT = "python:footy-tests:1.0 (by /u/footy)"
GOAL_T = 120.0
NEW_PATH = f"{LISTING_PREFIX}new"


def post(post_id: str, after: float, **kw: Any) -> dict[str, Any]:
    return {"id": post_id, "after": after,
            "video": {"scene": 3, "duration": 4.0, "width": 640, "height": 360}, **kw}  # fmt: skip


SCENARIO: dict[str, Any] = {
    "name": "reddit_standin_test",
    "settings": {"reddit_client_id": CLIENT_ID, "reddit_client_secret": SECRET},
    "fixtures": [{
        "id": 1001, "kickoff": 60,
        "league": {"id": 39, "name": "Premier League", "season": 2025},
        "home": {"id": 50, "name": "Manchester City"},
        "away": {"id": 35, "name": "Bournemouth"},
        "timeline": [{"t": 0, "status": "NS"}, {"t": 60, "status": "1H"}],
        "events": [
            {"key": "g1", "t": GOAL_T, "elapsed": 15, "team": "away",
             "player": {"id": 1, "name": "Antoine Semenyo"}, "type": "Goal",
             "detail": "Normal Goal",
             "reddit": [post("1ha0001", 30), post("1ha0002", 50, host="link"),
                        post("1ha0003", 70, title="Semenyo great save vs Man City 15'")]},
            {"key": "g2", "t": 200, "elapsed": 35, "team": "home",
             "player": {"id": 2, "name": "Erling Haaland"}, "type": "Goal",
             "detail": "Penalty", "reddit": [post("1ha0010", 20)]},
        ],
    }],
}  # fmt: skip


@pytest.fixture
def standin():
    handle = start_in_thread(SCENARIO, paused_at=GOAL_T + 200)
    yield handle
    handle.stop()


def goal(handle, *, scorer: str = "A. Semenyo", team: str = "Bournemouth",
         opponent: str = "Manchester City", minute: int = 15, score=(1, 0),
         t: float = GOAL_T) -> GoalQuery:  # fmt: skip
    return GoalQuery(goal_id=f"1001_{scorer}", fixture_id=1001, scorer_name=scorer,
                     team_name=team, opponent_name=opponent, minute=minute,
                     goal_time=handle.world.base_time + timedelta(seconds=t),
                     scores_after=(score,), opponent_aliases=("Man City",))  # fmt: skip


def source(handle, **kw: Any) -> RedditSource:
    settings: dict[str, Any] = {"timeout": 5.0, "max_attempts": 2, "backoff_initial": 0.01,
                                "auth_url": handle.url}  # fmt: skip
    settings.update(kw)
    return RedditSource(handle.url, settings.pop("client_id", CLIENT_ID),
                        settings.pop("client_secret", SECRET), settings.pop("agent", AGENT),
                        **settings)  # fmt: skip


def test_titles_follow_the_convention(standin) -> None:
    titles = {p.id: p.title for p in scenario_posts(standin.world)}
    assert titles["1ha0001"] == "Manchester City 0 - [1] Bournemouth - Antoine Semenyo 15'"
    assert titles["1ha0010"] == "Manchester City [1] - 1 Bournemouth - Erling Haaland (pen) 35'"
    assert titles["mt0"].startswith("Match Thread: Manchester City vs Bournemouth")


def test_search_finds_the_goal_post_and_its_dash_video(standin) -> None:
    result = create_source("reddit", base_url=standin.url, auth_url=standin.url,
                           client_id=CLIENT_ID, client_secret=SECRET,
                           user_agent=AGENT).search(goal(standin))  # fmt: skip
    assert [c.source_id for c in result.candidates] == ["1ha0001"]
    # The blog link matches but has no video; the save and the match thread are not goals.
    assert [(r.source_id, r.reasons) for r in result.rejected] == [("1ha0002", ("no_video",))]
    clip = result.candidates[0]
    assert clip.source == "reddit" and clip.post_url.startswith("https://www.reddit.com/r/soccer/")
    assert clip.media_url == f"{standin.url}/reddit-video/1ha0001/DASHPlaylist.mpd?a=1&v=1&f=sd"
    assert (clip.width, clip.height, clip.duration_s) == (640, 360, 4.0)
    assert clip.posted_at == standin.world.base_time + timedelta(seconds=GOAL_T + 30)
    assert result.newest_id == "t3_1ha0010"  # newest post read, whoever's it is
    rate = result.rate_limit
    assert rate is not None and rate.remaining == 999 and rate.limit == 1000
    haaland = source(standin).search(goal(standin, scorer="E. Haaland", team="Manchester City",
                                          opponent="Bournemouth", minute=35, score=(1, 1),
                                          t=200))  # fmt: skip
    assert [c.source_id for c in haaland.candidates] == ["1ha0010"]


def test_since_id_reads_only_newer_posts(standin) -> None:
    src = source(standin)
    first = src.search(goal(standin))
    again = src.search(goal(standin), since_id=first.newest_id)
    assert again.candidates == () and again.rejected == () and again.pages == 1
    assert again.newest_id == first.newest_id
    # One token for both searches: it is kept until it expires.
    assert len(standin.world.requests_for("/api/v1/access_token")) == 1


def test_a_goal_older_than_the_pages_read_is_searched(standin) -> None:
    result = source(standin, page_size=1, max_pages=1).search(goal(standin))
    assert "search" in result.query and result.pages == 2
    assert [c.source_id for c in result.candidates] == ["1ha0001"]
    searches = standin.world.requests_for(f"{LISTING_PREFIX}search")
    assert searches and searches[0]["query"]["restrict_sr"] == "1"


def test_dash_video_and_audio_are_downloaded_and_merged(standin, tmp_path: Path) -> None:
    clip = source(standin).search(goal(standin)).candidates[0]
    policy = UrlPolicy(allowed_hosts=(f"127.0.0.1:{standin.port}",), allow_private=True)
    file = download(clip.media_url, tmp_path / "out", policy=policy,
                    format_spec=SPLIT_STREAMS_FORMAT, work_dir=tmp_path)  # fmt: skip
    assert (file.width, file.height) == (640, 360)
    assert 3.5 <= file.duration_s <= 4.5
    probe = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type",
                            "-of", "json", str(file.path)], capture_output=True, check=True)
    kinds = sorted(s["codec_type"] for s in json.loads(probe.stdout)["streams"])
    assert kinds == ["audio", "video"]
    for name in ("DASHPlaylist.mpd", "DASH_360.mp4", "DASH_AUDIO_128.mp4"):
        assert standin.world.requests_for(f"/reddit-video/1ha0001/{name}"), name


def test_wrong_secret_and_generic_agent(standin) -> None:
    with pytest.raises(RedditAuthError):
        source(standin, client_secret="wrong").search(goal(standin))
    with pytest.raises(ConfigError, match="descriptive"):
        source(standin, agent="python-requests/2.32")
    # The stand-in, like Reddit, throttles a generic agent even with a valid token.
    token = requests.post(f"{standin.url}/api/v1/access_token", auth=(CLIENT_ID, SECRET),
                          data={"grant_type": "client_credentials"}, timeout=5).json()
    answer = requests.get(f"{standin.url}{NEW_PATH}", timeout=5, headers={
        "Authorization": f"bearer {token['access_token']}", "User-Agent": "curl/8.0"})
    assert answer.status_code == 429


def test_rate_limit_is_reported_with_its_reset(standin) -> None:
    standin.world.add_fault(NEW_PATH, "reddit_rate_limit", seconds=300)
    before = datetime.now(UTC)
    with pytest.raises(RedditRateLimitedError) as info:
        source(standin).search(goal(standin))
    assert before + timedelta(seconds=290) <= info.value.reset_at
    # A spent window: the next page is not requested, the reset is reported instead.
    standin.world.settings["reddit_rate_limit"] = 1
    with pytest.raises(RedditRateLimitedError):
        source(standin, page_size=1, max_pages=3).search(goal(standin))
    assert len(standin.world.requests_for(NEW_PATH)) == 2  # the fault, then one page


def test_server_errors_are_retried_and_bad_listings_refused(standin) -> None:
    standin.world.add_fault(NEW_PATH, "503", count=1)
    assert len(source(standin).search(goal(standin)).candidates) == 1
    standin.world.add_fault(NEW_PATH, "reddit_bad_listing")
    with pytest.raises(PayloadError, match="name"):
        source(standin).search(goal(standin))
