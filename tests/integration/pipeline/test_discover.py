"""Clip discovery against FerretDB and the stand-in X API, on the test_matchday scenario.

Goals come from the real fixture/goal stages replayed on the stand-in's clock; searches
run at chosen scenario times with a compressed window (attempts a few scenario seconds
apart), so which clip each attempt sees follows from the scenario's clip list:

Haaland 11' (goal event t=71): posts at t=77 (77001), 79 (79002), 81 (81003, other angle),
83 (83004, 720x1280 portrait), 84 (84005, 2 s), 85 (85006, 640x360) and 85 (a 15-digit
truncated id, 190000000000085, which ``since_id`` hides once a newer id has been seen).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from replay import replay_until

from footy.errors import PayloadError
from footy.pipeline.discover import DiscoveryConfig, discover_goal
from footy.sources.x_api import SEARCH_PATH, XApiSource, XAuthError
from footy.store import GOALS, VIDEOS
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration

BASE = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
TOKEN = "standin-token"
HAALAND = "2001_50_1100_normal_1"
OWN_GOAL = "2001_42_567_own_1"
PENALTY = "2001_50_1100_penalty_1"
CFG = DiscoveryConfig(attempts=4, interval=timedelta(seconds=2), enough_clips=10)

HAALAND_ACCEPTED = {"1900000000000077001", "1900000000000079002", "1900000000000081003"}
HAALAND_REJECTED = {
    "1900000000000083004": ["portrait"],
    "1900000000000084005": ["too_short"],
    "1900000000000085006": ["low_resolution"],
    "190000000000085": ["truncated_id"],
}


@pytest.fixture
def standin():
    handle = start_in_thread("test_matchday", base_time=BASE, paused_at=0,
                             settings={"x_bearer_token": TOKEN})
    yield handle
    handle.stop()


@pytest.fixture
def source(standin):
    return XApiSource(standin.url, TOKEN, timeout=(1, 1), max_attempts=2,
                      backoff_initial=0.01, backoff_max=0.05)


def _at(standin, t: float) -> datetime:
    standin.world.clock.set(t)
    return BASE + timedelta(seconds=t)


def confirm_goals(db, standin, until: float) -> None:
    replay_until(db, standin, BASE, until, leagues=[39, 45])


def search(db, standin, source, goal_id, t, owner="test", **kw):
    return discover_goal(db, source, goal_id, owner=owner, now=_at(standin, t),
                         cfg=kw.pop("cfg", CFG), **kw)


def videos(db, goal_id) -> dict[str, dict]:
    return {v["source_id"]: v for v in db[VIDEOS].find({"goal_id": goal_id})}


def x_requests(standin) -> int:
    return len(standin.world.requests_for(SEARCH_PATH))


def search_status(db, goal_id) -> dict:
    return db[GOALS].find_one({"_id": goal_id})["processing_status"]


@pytest.fixture
def haaland(db, standin):
    confirm_goals(db, standin, until=76)
    assert db[GOALS].find_one({"_id": HAALAND})["status"] == "confirmed"
    return HAALAND


def test_goal_ends_with_exactly_the_expected_candidates_and_rejections(db, standin, source,
                                                                        haaland):
    first = search(db, standin, source, haaland, 86)
    assert first["status"] == "searched" and first["attempt"] == 1
    stored = videos(db, haaland)
    assert {i for i, v in stored.items() if v["state"] == "candidate"} == HAALAND_ACCEPTED
    assert {i: v["reject_reasons"] for i, v in stored.items()
            if v["state"] == "rejected"} == HAALAND_REJECTED
    assert sorted(first["new_candidates"]) == sorted(
        f"{haaland}:x:{i}" for i in HAALAND_ACCEPTED)
    best = stored["1900000000000077001"]
    assert best["_id"] == f"{haaland}:x:1900000000000077001"
    assert best["media_url"] == f"{standin.url}/media/1900000000000077001.mp4"
    assert (best["width"], best["height"], best["duration_s"]) == (1280, 720, 8.0)
    assert best["posted_at"] == BASE + timedelta(seconds=77)
    assert best["post_url"] == "https://x.com/i/status/1900000000000077001"

    # The remaining attempts find nothing new; the window then ends.
    for t in (88, 90, 92):
        result = search(db, standin, source, haaland, t)
        assert result["new_candidates"] == result["new_rejected"] == []
    status = search_status(db, haaland)
    assert status["twitter_scraped"] is True
    assert status["search"]["attempts"] == CFG.attempts
    assert status["search"]["ended"] == "attempts"
    assert status["search"]["accepted"] == 3 and status["search"]["rejected"] == 4
    assert status["search"]["sources"]["x"]["since_id"] == "1900000000000085006"
    assert "Haaland" in status["search"]["last_query"]
    assert len(stored) == len(videos(db, haaland)) == 7
    assert search(db, standin, source, haaland, 94)["reason"].startswith("search window")


def test_each_attempt_sees_only_clips_posted_since_the_last(db, standin, source, haaland):
    seen = []
    for t in (78, 82, 86):
        result = search(db, standin, source, haaland, t)
        seen.append(sorted(i.split(":")[-1] for i in
                           result["new_candidates"] + result["new_rejected"]))
    assert seen == [
        ["1900000000000077001"],
        ["1900000000000079002", "1900000000000081003"],
        # 190000000000085 is posted now too, but its id is below since_id: never returned
        ["1900000000000083004", "1900000000000084005", "1900000000000085006"],
    ]
    requests = standin.world.requests_for(SEARCH_PATH)
    assert "since_id" not in requests[0]["query"]
    assert [r["query"].get("since_id") for r in requests[1:]] == [
        "1900000000000077001", "1900000000000081003"]
    assert "190000000000085" not in videos(db, haaland)


def test_not_due_goal_is_not_searched_and_enough_clips_ends_the_window(db, standin, source,
                                                                        haaland):
    cfg = DiscoveryConfig(attempts=10, interval=timedelta(seconds=30), enough_clips=3)
    assert search(db, standin, source, haaland, 80, cfg=cfg)["status"] == "searched"
    assert search_status(db, haaland)["search"]["next_at"] == BASE + timedelta(seconds=110)
    early = search(db, standin, source, haaland, 100, cfg=cfg)
    assert early["status"] == "skipped" and "not due" in early["reason"]
    assert x_requests(standin) == 1
    manual = search(db, standin, source, haaland, 100, cfg=cfg, due_only=False)
    assert manual["status"] == "searched" and manual["finished"] is True
    status = search_status(db, haaland)
    assert status["twitter_scraped"] is True and status["search"]["ended"] == "enough_clips"
    assert status["search"]["attempts"] == 2


def test_own_goal_searches_the_scorer_with_both_teams(db, standin, source):
    confirm_goals(db, standin, until=154)
    goal = db[GOALS].find_one({"_id": OWN_GOAL})
    assert (goal["team_name"], goal["opponent_name"]) == ("Arsenal", "Manchester City")
    result = search(db, standin, source, OWN_GOAL, 160)
    query = search_status(db, OWN_GOAL)["search"]["last_query"]
    assert query.startswith("(Dias OR Ruben) (Arsenal OR \"Manchester City\")"), query
    assert {i.split(":")[-1] for i in result["new_candidates"]} == {
        "1900000000000156001", "1900000000000158002"}


def test_a_later_goal_by_the_same_scorer_skips_the_earlier_goals_clips(db, standin, source):
    confirm_goals(db, standin, until=190)
    result = search(db, standin, source, PENALTY, 195)
    assert {i.split(":")[-1] for i in result["new_candidates"]} == {
        "1900000000000189001", "1900000000000191002"}
    assert set(videos(db, PENALTY)) == {"1900000000000189001", "1900000000000191002"}


def test_overlapping_runs_search_a_goal_once(db, standin, source, haaland):
    now_t = 86
    _at(standin, now_t)
    barrier = threading.Barrier(4)
    results = []

    def run(owner):
        barrier.wait()
        results.append(search(db, standin, source, haaland, now_t, owner=owner))

    threads = [threading.Thread(target=run, args=(f"run-{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["status"] for r in results) == ["searched", "skipped", "skipped", "skipped"]
    assert x_requests(standin) == 1
    assert len(videos(db, haaland)) == 7
    assert search_status(db, haaland)["search"]["attempts"] == 1


def test_rerunning_is_idempotent(db, standin, source, haaland):
    for t in (86, 88, 90, 92):
        search(db, standin, source, haaland, t)
    before = (sorted(db[VIDEOS].find(), key=lambda v: v["_id"]),
              db[GOALS].find_one({"_id": haaland}))
    assert search(db, standin, source, haaland, 92)["status"] == "skipped"
    assert (sorted(db[VIDEOS].find(), key=lambda v: v["_id"]),
            db[GOALS].find_one({"_id": haaland})) == before
    # A forced manual search stores nothing twice and leaves later states alone.
    db[VIDEOS].update_one({"source_id": "1900000000000077001"}, {"$set": {"state": "stored"}})
    db[GOALS].update_one({"_id": haaland},
                         {"$unset": {"processing_status.search.sources.x.since_id": ""}})
    forced = search(db, standin, source, haaland, 94, due_only=False, force=True)
    assert forced["status"] == "searched"
    assert forced["new_candidates"] == forced["new_rejected"] == []
    stored = videos(db, haaland)
    assert len(stored) == 7 and stored["1900000000000077001"]["state"] == "stored"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "500", "count": 5}, "XServerError"),
        ({"kind": "timeout", "seconds": 3, "count": 5}, "XTimeoutError"),
        ({"kind": "x_missing_id"}, "PayloadError"),
        ({"kind": "x_bad_variants"}, "PayloadError"),
    ],
)
def test_transient_and_malformed_failures_are_recorded_and_retried(db, standin, source, haaland,
                                                                   fault, error):
    search(db, standin, source, haaland, 80)
    before = videos(db, haaland)
    assert set(before) == {"1900000000000077001", "1900000000000079002"}
    standin.world.add_fault(SEARCH_PATH, **fault)
    result = search(db, standin, source, haaland, 86)
    assert result["status"] == "error" and result["error"]["type"] == error
    status = search_status(db, haaland)
    assert status["last_error"]["type"] == error and status["last_error"]["stage"] == "discover"
    assert status["errors"]["discover"] == 1
    assert status["search"]["attempts"] == 1, "a failed attempt is not a search done"
    assert status["search"]["next_at"] == BASE + timedelta(seconds=88)
    assert videos(db, haaland) == before, "no stored candidate lost or changed"
    standin.world.clear_faults()
    retry = search(db, standin, source, haaland, 88)
    assert retry["status"] == "searched"
    assert len(videos(db, haaland)) == 6  # 81003, 83004, 84005, 85006 are new


def test_rate_limit_moves_the_next_attempt_to_the_reset(db, standin, source, haaland):
    search(db, standin, source, haaland, 80)
    before = videos(db, haaland)
    standin.world.add_fault(SEARCH_PATH, "x_rate_limit", seconds=900)
    real_now = datetime.now(UTC)
    result = search(db, standin, source, haaland, 86)
    assert result["status"] == "rate_limited"
    assert x_requests(standin) == 2, "a 429 is not retried inside the worker"
    status = search_status(db, haaland)
    assert status["last_error"]["type"] == "XRateLimitedError"
    assert status["search"]["attempts"] == 1
    next_at = status["search"]["next_at"]
    assert real_now + timedelta(seconds=890) <= next_at <= real_now + timedelta(seconds=905)
    assert search(db, standin, source, haaland, 88)["status"] == "skipped"
    assert videos(db, haaland) == before


def test_repeat_searches_leave_the_rest_of_the_request_window_to_new_goals(db):
    """X allows 4 searches per window here; 40 % of it (2) is kept for first searches."""
    handle = start_in_thread("test_matchday", base_time=BASE, paused_at=0,
                             settings={"x_bearer_token": TOKEN, "x_rate_limit": 4})
    try:
        x = XApiSource(handle.url, TOKEN, timeout=(1, 1), max_attempts=2,
                       backoff_initial=0.01, backoff_max=0.05)
        confirm_goals(db, handle, until=154)
        assert search(db, handle, x, HAALAND, 80)["attempt"] == 1  # 3 left
        assert search(db, handle, x, HAALAND, 86)["attempt"] == 2  # 2 left: the reserve
        window = db["sources"].find_one({"_id": "x"})["window"]
        assert (window["limit"], window["remaining"]) == (4, 2)

        held = search(db, handle, x, HAALAND, 90)
        assert held["status"] == "skipped" and "postponed" in held["reason"], held
        assert x_requests(handle) == 2, "a postponed search asks nothing"
        status = search_status(db, HAALAND)["search"]
        assert status["attempts"] == 2 and status["next_at"] == window["reset_at"]

        first = search(db, handle, x, OWN_GOAL, 160)  # a goal not searched yet may use it
        assert first["status"] == "searched" and first["new_candidates"]
        assert x_requests(handle) == 3
        assert db["sources"].find_one({"_id": "x"})["window"]["remaining"] == 1
    finally:
        handle.stop()


def test_rejected_credentials_fail_loudly_and_keep_candidates(db, standin, source, haaland):
    search(db, standin, source, haaland, 80)
    before = videos(db, haaland)
    bad = XApiSource(standin.url, "wrong-token", timeout=(1, 1), max_attempts=2)
    with pytest.raises(XAuthError):
        search(db, standin, bad, haaland, 86)
    status = search_status(db, haaland)
    assert status["last_error"]["type"] == "XAuthError"
    assert status["twitter_scraped"] is False
    assert videos(db, haaland) == before
    # The claim was released: the next run searches again once the token is fixed.
    assert search(db, standin, source, haaland, 88)["status"] == "searched"


def test_rejected_credentials_pause_the_source_until_they_change(db, standin, source):
    from footy.store import sources
    from footy.store.backlog import waiting

    confirm_goals(db, standin, until=154)
    bad = XApiSource(standin.url, "wrong-token", timeout=(1, 1), max_attempts=2)
    wrong, right = sources.credential_id("wrong-token"), sources.credential_id(TOKEN)
    # The first goal meets the rejection: it raises (the task fails, once) and pauses X.
    with pytest.raises(XAuthError):
        search(db, standin, bad, HAALAND, 160, credentials={"x": wrong})
    pause = sources.paused(db, "x")
    assert pause["credential"] == wrong and pause["error"]["type"] == "XAuthError"
    assert "wrong-token" not in str(pause)  # a fingerprint, never the secret
    # Later goals are skipped, naming the pause, without a call to X; no search is waiting.
    calls = x_requests(standin)
    skipped = search(db, standin, bad, OWN_GOAL, 161, credentials={"x": wrong})
    assert skipped["status"] == "skipped" and "source x paused" in skipped["reason"]
    assert x_requests(standin) == calls
    assert waiting(db, "search", _at(standin, 170)) == []
    # The connection changes: the source resumes and both goals are searched.
    fixed = {"x": right}
    assert search(db, standin, source, OWN_GOAL, 170, credentials=fixed)["status"] == "searched"
    assert sources.paused(db, "x") is None
    assert search(db, standin, source, HAALAND, 171, credentials=fixed)["status"] == "searched"


def test_config_from_variable_is_validated():
    cfg = DiscoveryConfig.from_dict({"attempts": 5, "interval_seconds": 30, "enough_clips": 3,
                                     "gates": {"min_short_edge": 480},
                                     "team_aliases": {"Manchester City": ["Man City"]}})
    assert (cfg.attempts, cfg.interval, cfg.gates.min_short_edge) == (5, timedelta(seconds=30),
                                                                     480)
    assert cfg.aliases_for("manchester city") == ["Man City"]
    assert cfg.sources == ("x",)
    assert DiscoveryConfig.from_dict({"sources": ["reddit", "x"]}).sources == ("reddit", "x")
    assert DiscoveryConfig.from_dict({"repeat_reserve": 0}).repeat_reserve == 0.0
    for bad in ({"attempts": 0}, {"attemps": 3}, {"gates": {"min_aspect": "wide"}},
                {"team_aliases": {"City": "Man City"}}, {"interval_seconds": True},
                {"sources": []}, {"sources": ["facebook"]}, {"sources": "x"},
                {"repeat_reserve": 1}, {"repeat_reserve": -0.1}, {"repeat_reserve": "half"}):
        with pytest.raises(Exception) as raised:
            DiscoveryConfig.from_dict(bad)
        assert type(raised.value).__name__ == "ConfigError", bad
    assert PayloadError  # typed errors come from footy.errors
