"""The real X client against the stand-in X endpoint (scenario clips, clock, faults)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
import requests

from footy.errors import PayloadError
from footy.sources import GoalQuery
from footy.sources.gates import check
from footy.sources.x_api import XApiSource, XAuthError, XRateLimitedError
from footy_testbed.standin.server import start_in_thread
from footy_testbed.standin.x_api import SEARCH_PATH, find_clip, scenario_clips

pytestmark = pytest.mark.integration

TOKEN = "standin-token"
GOAL_T = 120.0  # scenario seconds


def clip(tid: str, after: float, text: str, **kw: Any) -> dict[str, Any]:
    return {"id": tid, "after": after, "text": text, "video": {"scene": 1}, **kw}


SCENARIO: dict[str, Any] = {
    "name": "x_standin_test",
    "settings": {"x_bearer_token": TOKEN},
    "fixtures": [
        {
            "id": 1001,
            "kickoff": 60,
            "league": {"id": 39, "name": "Premier League", "season": 2025},
            "home": {"id": 50, "name": "Manchester City"},
            "away": {"id": 35, "name": "Bournemouth"},
            "timeline": [{"t": 0, "status": "NS"}, {"t": 60, "status": "1H"}],
            "events": [
                {
                    "key": "g1",
                    "t": GOAL_T,
                    "elapsed": 15,
                    "team": "away",
                    "player": {"id": 1, "name": "Antoine Semenyo"},
                    "type": "Goal",
                    "detail": "Normal Goal",
                    "clips": [
                        clip(
                            "1900000000000000001",
                            20,
                            "What a strike!",
                            video={"scene": 1, "bitrate_kbps": 3000},
                            likes=40,
                        ),
                        clip(
                            "1900000000000000002",
                            40,
                            "SEMENYO 🔥",
                            video={"scene": 1, "angle": 1, "width": 720, "height": 1280},
                        ),
                        clip(
                            "190000000000000003",
                            60,
                            "semenyo again",
                            video={"scene": 1},
                            width=1280,
                            height=720,
                            duration=2.0,
                        ),
                        clip("19000000000000004", 30, "Semenyo (truncated link)"),
                        clip("1900000000000000005", 300, "Sémenyo later"),
                    ],
                },
                {
                    "key": "g2",
                    "t": 200,
                    "elapsed": 35,
                    "team": "home",
                    "player": {"id": 2, "name": "Erling Haaland"},
                    "type": "Goal",
                    "detail": "Normal Goal",
                    "clips": [clip("1900000000000000010", 10, "Haaland!", video={"scene": 2})],
                },
            ],
        }
    ],
}


@pytest.fixture
def standin():
    handle = start_in_thread(SCENARIO, paused_at=GOAL_T + 100)
    yield handle
    handle.stop()


def goal(handle, name: str = "Antoine Semenyo", team: str = "Bournemouth") -> GoalQuery:
    return GoalQuery(
        goal_id="1001_35_1_Normal Goal_1",
        fixture_id=1001,
        scorer_name=name,
        team_name=team,
        goal_time=handle.world.base_time + timedelta(seconds=GOAL_T),
        minute=15,
    )


def source(handle, **kw: Any) -> XApiSource:
    settings: dict[str, Any] = {"timeout": 2.0, "max_attempts": 2, "backoff_initial": 0.01}
    settings.update(kw)
    return XApiSource(handle.url, kw.pop("token", TOKEN), **settings)


def test_search_serves_posted_clips_newest_first(standin) -> None:
    result = source(standin).search(goal(standin))
    ids = [c.source_id for c in result.candidates]
    # t=220: clips posted at 140, 160, 180 are out; the one at 420 is not yet; 150 is truncated
    assert ids == ["190000000000000003", "1900000000000000002", "1900000000000000001"]
    assert [(r.source_id, r.reasons) for r in result.rejected] == [
        ("19000000000000004", ("truncated_id",))
    ]
    best = result.candidates[-1]
    assert best.media_url == f"{standin.url}/media/1900000000000000001.mp4"
    assert best.bitrate == 3_000_000 and (best.width, best.height) == (1280, 720)
    assert best.duration_s == 8.0 and best.popularity == 40
    assert best.posted_at == standin.world.base_time + timedelta(seconds=GOAL_T + 20)
    assert result.newest_id == "1900000000000000002"  # numerically largest valid id

    reasons = {c.source_id: check(c, goal(standin).goal_time) for c in result.candidates}
    assert reasons == {
        "1900000000000000001": [],
        "1900000000000000002": ["portrait"],
        "190000000000000003": ["too_short"],
    }
    spec = find_clip(standin.world, "1900000000000000002").clip_spec()
    assert (spec.scene, spec.angle, spec.width, spec.height) == (1, 1, 720, 1280)


def test_clock_since_id_and_loose_matching(standin) -> None:
    standin.world.clock.set(GOAL_T + 400)
    src = source(standin)
    first = src.search(goal(standin))
    assert "1900000000000000005" in [c.source_id for c in first.candidates]  # accent-insensitive
    assert "1900000000000000010" not in [c.source_id for c in first.candidates]  # Haaland's
    again = src.search(goal(standin), since_id=first.newest_id)
    assert again.candidates == () and again.rejected == ()
    haaland = src.search(goal(standin, "Erling Haaland", "Manchester City"))
    assert [c.source_id for c in haaland.candidates] == ["1900000000000000010"]


def test_pagination_with_small_pages(standin) -> None:
    standin.world.settings["x_page_size"] = 1
    result = source(standin).search(goal(standin))
    assert result.pages == 4  # 3 candidates + 1 truncated, one per page
    assert len(result.candidates) == 3
    tokens = [r["query"].get("next_token") for r in standin.world.requests_for(SEARCH_PATH)]
    assert tokens[0] is None and all(tokens[1:])
    limited = source(standin, max_pages=2).search(goal(standin))
    assert limited.pages == 2 and limited.next_token


def test_wrong_token_is_401(standin) -> None:
    bad = XApiSource(standin.url, "wrong", timeout=2.0, max_attempts=2)
    with pytest.raises(XAuthError):
        bad.search(goal(standin))


def test_rate_limit_fault_and_window(standin) -> None:
    standin.world.add_fault(SEARCH_PATH, "x_rate_limit", seconds=120)
    with pytest.raises(XRateLimitedError) as info:
        source(standin).search(goal(standin))
    assert info.value.reset_at > goal(standin).goal_time
    # A real window: the second allowed request exhausts a limit of 2.
    standin.world.settings["x_rate_limit"] = 2
    ok = source(standin).search(goal(standin))
    assert ok.rate_limit is not None and ok.rate_limit.remaining == 1
    source(standin).search(goal(standin))
    with pytest.raises(XRateLimitedError):
        source(standin).search(goal(standin))


def test_server_error_fault_retried(standin) -> None:
    standin.world.add_fault(SEARCH_PATH, "503", count=1)
    result = source(standin, max_attempts=2).search(goal(standin))
    assert len(result.candidates) == 3


@pytest.mark.parametrize(
    ("kind", "field_name"),
    [
        ("x_missing_id", "data[3].id"),
        ("x_missing_media_key", "includes.media[3].media_key"),
        ("x_bad_variants", "includes.media[3].variants"),
    ],
)
def test_payload_faults(standin, kind: str, field_name: str) -> None:
    standin.world.add_fault(SEARCH_PATH, kind)
    with pytest.raises(PayloadError) as info:
        source(standin).search(goal(standin))
    assert info.value.field == field_name


def test_invalid_max_results_is_400(standin) -> None:
    resp = requests.get(
        standin.url + SEARCH_PATH,
        params={"query": "(Semenyo)", "max_results": "5"},
        headers={"Authorization": f"Bearer {TOKEN}"},
        timeout=2,
    )
    assert resp.status_code == 400
    assert resp.json()["title"] == "Invalid Request"


def test_bundled_test_matchday_clips() -> None:
    handle = start_in_thread("test_matchday", paused_at=100)  # Haaland scored at t=71
    try:
        kickoff = handle.world.base_time + timedelta(seconds=60)
        haaland = GoalQuery(
            goal_id="2001_50_1100_Normal Goal_1",
            fixture_id=2001,
            scorer_name="E. Haaland",
            team_name="Manchester City",
            goal_time=kickoff + timedelta(seconds=11),
            minute=12,
        )
        result = XApiSource(handle.url, "any-token", timeout=2.0).search(haaland)
        assert [r.reasons for r in result.rejected] == [("truncated_id",)]
        verdicts = {c.text: check(c, haaland.goal_time) for c in result.candidates}
        assert verdicts == {
            "HAALAND! Man City 1-0 Arsenal": [],
            "Erling Haaland opens the scoring #MCIARS": [],
            "Haaland goal from behind the net": [],
            "haaland!!! from the stands": ["portrait"],
            "Haaland 1-0 (short)": ["too_short"],
            "Haaland goal 360p": ["low_resolution"],
        }
        # Every clip of the scenario names a renderable ClipSpec.
        clips = scenario_clips(handle.world)
        assert len(clips) == 20
        assert all(c.clip_spec().scene >= 1 for c in clips)
    finally:
        handle.stop()
