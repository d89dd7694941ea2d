"""The fixture/goal half of the pipeline against FerretDB and the stand-in API-Football.

A scenario replay, stepped on the stand-in's clock, drives ingest -> advance -> monitor ->
process exactly as the DAGs call them, and ends with exactly the expected goals.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from footy.api_budget import PollCost
from footy.api_football import ApiFootballClient
from footy.pipeline.fixtures import Tracking, _fetch, advance, ingest, monitor
from footy.pipeline.goals import process_fixture_goals, process_manual_goals
from footy.status import collect, render
from footy.store import FIXTURES_ACTIVE, FIXTURES_COMPLETED, FIXTURES_STAGING, GOALS
from footy.store.api_usage import usage_id
from footy.store.backlog import active_fixtures
from footy.store.fixtures import record_polls
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration

BASE = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
LEAD = timedelta(seconds=20)
STEP = 1  # scenario seconds between polls: the VAR goal is confirmed before it is disallowed
TRACKING = Tracking([39, 45], [], 2025)  # Premier League and FA Cup
SCENARIOS = Path(__file__).resolve().parents[3] / "include" / "footy_testbed" / "scenarios"

CONFIRMED = {
    "2001_50_1100_normal_1",  # Haaland, minute corrected 12' -> 11' (same id)
    "2001_42_g-martinelli_normal_1",  # scorer unknown at first, then named (no player id)
    "2001_42_567_own_1",  # own goal
    "2001_50_1100_penalty_1",  # penalty
    "2002_40_306_penalty_1",  # penalty before the match was abandoned
    "2002_49_n-jackson_normal_1",
    "2004_33_2860_normal_1",
    "2004_34_1622_normal_1",  # the shoot-out that follows is not goals
}
WITHDRAWN = {"2001_50_631_normal_1"}  # VAR-disallowed after it was confirmed


@pytest.fixture
def standin():
    handle = start_in_thread("test_matchday", base_time=BASE, paused_at=0)
    yield handle
    handle.stop()


@pytest.fixture
def client(standin):
    return ApiFootballClient(
        standin.url,
        "test-key",
        timeout=(2, 5),
        max_attempts=2,
        backoff_initial=0.05,
        backoff_max=0.2,
        max_total_wait=2,
    )


def _at(standin, t: float) -> datetime:
    standin.world.clock.set(t)
    return BASE + timedelta(seconds=t)


def _process_pending(db, now) -> list[str]:
    new = []
    for doc in db[FIXTURES_ACTIVE].find({"goal_changes.pending": True}, {"_id": 1}):
        new += process_fixture_goals(db, doc["_id"], now)["new_goals"]
    return new


def _complete_all_goals(db) -> None:
    """Stand-in for the clip stages, which are not part of this half."""
    db[GOALS].update_many({}, {"$set": {"processing_status.completed": True}})


def replay(db, standin, client, until: float = 240) -> None:
    day = BASE.date().isoformat()
    ingest(db, client, day, TRACKING, _at(standin, 0))
    t = 0.0
    while t <= until:
        now = _at(standin, t)
        advance(db, now, lead=LEAD)
        monitor(db, client, f"poll-{t:g}", now)
        _process_pending(db, now)
        _complete_all_goals(db)
        t += STEP


def snapshot(db) -> dict:
    return {
        name: sorted(db[name].find({}), key=lambda d: str(d["_id"]))
        for name in (FIXTURES_STAGING, FIXTURES_ACTIVE, FIXTURES_COMPLETED, GOALS)
    }


def test_scenario_replay_ends_with_exactly_the_expected_goals(db, standin, client):
    replay(db, standin, client)
    goals = {g["_id"]: g for g in db[GOALS].find()}
    assert {g for g, d in goals.items() if d["status"] == "confirmed"} == CONFIRMED
    assert {g for g, d in goals.items() if d["status"] == "withdrawn"} == WITHDRAWN
    assert "absent from 3 distinct polls" in goals["2001_50_631_normal_1"]["withdrawn_reason"]
    tracks = db[FIXTURES_COMPLETED].find_one({"_id": 2001})["debounce"]
    assert tracks["2001_50_631_normal_1"]["state"] == "withdrawn"
    assert goals["2001_50_1100_normal_1"]["minute"] == "11'"
    assert goals["2001_42_g-martinelli_normal_1"]["player_name"] == "G. Martinelli"
    assert goals["2001_42_567_own_1"]["detail"] == "Own Goal"
    for goal in goals.values():
        status = goal["processing_status"]
        assert set(status) >= {"twitter_scraped", "videos_downloaded", "videos_filtered"}

    completed = {d["_id"]: d for d in db[FIXTURES_COMPLETED].find()}
    assert set(completed) == {2001, 2002, 2003, 2004}
    assert completed[2002]["outcome"] == "void"  # abandoned mid-match
    assert completed[2003]["outcome"] == "void"  # postponed
    assert completed[2001]["outcome"] == completed[2004]["outcome"] == "finished"
    assert db[FIXTURES_ACTIVE].count_documents({}) == 0
    assert db[FIXTURES_STAGING].count_documents({}) == 0


def test_unknown_scorer_is_held_until_named(db, standin, client):
    replay(db, standin, client, until=94)
    fixture = db[FIXTURES_ACTIVE].find_one({"_id": 2001})
    assert [h["reason"].split(" (")[0] for h in fixture["held_goals"]] == ["scorer not known yet"]
    assert fixture["held_goals"][0]["team_id"] == 42
    assert not any("martinelli" in g for g in db[GOALS].distinct("_id"))


def test_rerunning_every_stage_changes_nothing(db, standin, client):
    replay(db, standin, client)
    before = snapshot(db)
    now = _at(standin, 240)
    day = BASE.date().isoformat()
    ingest(db, client, day, TRACKING, now)
    advance(db, now, lead=LEAD)
    monitor(db, client, "poll-rerun", now)
    for fixture_id in (2001, 2002, 2003, 2004):
        process_fixture_goals(db, fixture_id, now)
    assert snapshot(db) == before


def test_ingest_twice_changes_nothing(db, standin, client):
    now = _at(standin, 0)
    first = ingest(db, client, BASE.date().isoformat(), TRACKING, now)
    before = snapshot(db)
    second = ingest(db, client, BASE.date().isoformat(), TRACKING, now)
    assert first["inserted"] == 4 and second["inserted"] == 0 and second["updated"] == 0
    assert snapshot(db) == before


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"kind": "malformed"}, "PayloadError"),
        ({"kind": "errors200_token"}, "ApiAuthError"),
        ({"kind": "429"}, "ApiRateLimitError"),
        ({"kind": "timeout", "seconds": 8}, "ApiTimeoutError"),
    ],
)
def test_api_failures_raise_typed_errors_and_change_no_document(db, standin, client, fault, error):
    ingest(db, client, BASE.date().isoformat(), TRACKING, _at(standin, 0))
    for t in range(60, 80, STEP):
        now = _at(standin, t)
        advance(db, now, lead=LEAD)
        monitor(db, client, f"poll-{t}", now)
    before = snapshot(db)
    standin.world.add_fault("/fixtures", count=5, **fault)
    with pytest.raises(Exception) as raised:
        monitor(db, client, "poll-faulty", _at(standin, 80))
    assert type(raised.value).__name__ == error
    assert snapshot(db) == before


def test_one_malformed_fixture_does_not_fail_the_poll(db, standin, client):
    ingest(db, client, BASE.date().isoformat(), TRACKING, _at(standin, 0))
    for t in range(60, 76, STEP):
        advance(db, _at(standin, t), lead=LEAD)
        monitor(db, client, f"poll-{t}", _at(standin, t))
    before = {d["_id"]: d for d in db[FIXTURES_ACTIVE].find()}
    assert len(before) == 2
    standin.world.add_fault("/fixtures", "corrupt", index=1, field="fixture.status")
    summary = monitor(db, client, "poll-corrupt", _at(standin, 76))
    assert [e["type"] for e in summary["errors"]] == ["PayloadError"]
    assert "status" in summary["errors"][0]["message"]
    assert summary["polled"] == 1, "the other active fixture was still polled"
    bad = summary["errors"][0]["fixture"]
    (good,) = set(before) - {bad}
    assert db[FIXTURES_ACTIVE].find_one({"_id": bad}) == before[bad]
    assert good not in summary["missing"]  # polled, and written only if it changed


def test_manual_goal_events_are_confirmed_without_debounce(db, standin, client):
    ingest(db, client, BASE.date().isoformat(), TRACKING, _at(standin, 0))
    events = [
        {
            "time": {"elapsed": 23, "extra": None},
            "team": {"id": 50, "name": "Manchester City"},
            "player": {"id": 1100, "name": "E. Haaland"},
            "assist": {"id": None, "name": None},
            "type": "Goal",
            "detail": "Normal Goal",
            "comments": None,
        }
    ]
    result = process_manual_goals(db, 2001, events, _at(standin, 0))
    assert result["new_goals"] == ["2001_50_1100_normal_1"]
    assert process_manual_goals(db, 2001, events, _at(standin, 0))["new_goals"] == []


def test_a_poll_that_sees_nothing_new_writes_nothing(db, standin, client):
    replay(db, standin, client, until=60)
    now = _at(standin, 60)  # the stand-in's clock stands still: every poll sees the same
    writes = [monitor(db, client, f"still-{n}", now)["writes"] for n in range(25)]
    assert writes[0] > 0  # pending goals' debounce counts on
    assert writes[-1] == 0, writes
    before = snapshot(db)
    summary = monitor(db, client, "still-again", now)
    assert summary["polled"] > 0 and summary["writes"] == 0
    assert snapshot(db) == before


def test_a_concurrent_poll_that_stored_first_wins(db, standin, client):
    replay(db, standin, client, until=30)
    now = _at(standin, 31)
    fixture = db[FIXTURES_ACTIVE].find_one({}, sort=[("_id", 1)])
    seq = fixture["poll"]["seq"]
    # another poll stores between this poll's read and its write
    db[FIXTURES_ACTIVE].update_one({"_id": fixture["_id"]}, {"$inc": {"poll.seq": 1}})
    stored, errors = record_polls(db, {fixture["_id"]: (seq, {"status": "XX"}, False)}, now=now)
    assert stored == [] and errors == []
    assert db[FIXTURES_ACTIVE].find_one({"_id": fixture["_id"]})["status"] != "XX"


def test_a_fixture_still_active_long_after_kickoff_expires_with_its_reason(db, standin, client):
    replay(db, standin, client, until=94)  # 2001 holds a goal whose scorer is not named yet
    fixture = db[FIXTURES_ACTIVE].find_one({"_id": 2001})
    assert fixture["held_goals"]
    kickoff = fixture["kickoff"].replace(tzinfo=UTC)
    early = advance(db, kickoff + timedelta(hours=3), lead=LEAD, max_age=timedelta(hours=4))
    assert 2001 not in early["expired"]
    moved = advance(db, kickoff + timedelta(hours=4), lead=LEAD, max_age=timedelta(hours=4))
    assert 2001 in moved["expired"]
    done = db[FIXTURES_COMPLETED].find_one({"_id": 2001})
    assert done["outcome"] == "expired"
    assert "without a scorer name" in done["completed_reason"]
    assert db[FIXTURES_ACTIVE].find_one({"_id": 2001}) is None
    assert "without a scorer name" in render(collect(db))


def _scenario_without_names() -> dict:
    """test_matchday's 2001 as a lower league shows it: Martinelli's name never arrives, and
    a second Arsenal goal is nameless from the start."""
    data = json.loads((SCENARIOS / "test_matchday.json").read_text())
    fixture = next(f for f in data["fixtures"] if f["id"] == 2001)
    for event in fixture["events"]:
        event.pop("clips", None)
        if event["key"] == "a-unknown-1":
            event.pop("changes")
    late = copy.deepcopy(next(e for e in fixture["events"] if e["key"] == "a-unknown-1"))
    fixture["events"].append({**late, "key": "a-unknown-2", "elapsed": 120 - 60, "t": 180})
    return {**data, "name": "nameless", "fixtures": [fixture]}


def test_goals_whose_names_never_arrive_are_processed_unnamed_and_the_fixture_ends(db):
    handle = start_in_thread(_scenario_without_names(), base_time=BASE, paused_at=0)
    try:
        api = ApiFootballClient(handle.url, "test-key", timeout=(2, 5), max_attempts=2,
                                backoff_initial=0.05, backoff_max=0.2, max_total_wait=2)
        replay(db, handle, api, until=100)
        assert "held: 2001 Manchester City v Arsenal: Arsenal 31': scorer not known yet (11 of " \
            "15 polls)" in render(collect(db))
        replay_more(db, handle, api, 101, 200)
        goals = {g["_id"]: g for g in db[GOALS].find()}
        first, second = "2001_42_unnamed_normal_1", "2001_42_unnamed_normal_2"
        assert goals[first]["status"] == goals[second]["status"] == "confirmed"
        assert goals[first]["label"] == "Unnamed scorer 31' Manchester City v Arsenal"
        assert goals[first]["player_name"] is None
        # held 15 polls during play; the late one only 3 polls past full time (t=186)
        active = db[FIXTURES_ACTIVE].find_one({"_id": 2001}) or db[
            FIXTURES_COMPLETED].find_one({"_id": 2001})
        assert active["debounce"][first]["first_seen_poll"] == "poll-104"
        assert active["debounce"][second]["first_seen_poll"] == "poll-188"
        assert "unnamed scorer              2" in render(collect(db))
        replay_more(db, handle, api, 201, 215)
        done = db[FIXTURES_COMPLETED].find_one({"_id": 2001})
        assert done is not None and done["outcome"] == "finished", "not held for a name"
    finally:
        handle.stop()


def replay_more(db, standin, client, start: int, until: int) -> None:
    for t in range(start, until + 1, STEP):
        now = _at(standin, t)
        advance(db, now, lead=LEAD)
        monitor(db, client, f"poll-{t:g}", now)
        _process_pending(db, now)
        _complete_all_goals(db)


def test_polls_count_their_requests_and_a_small_budget_slows_them(db, standin, client):
    replay(db, standin, client, until=70)  # two fixtures in play, others staged
    used = db.api_usage.find_one({"_id": usage_id(_at(standin, 70))})["used"]
    assert used == client.calls, "every request of ingest and the polls is counted"

    now = _at(standin, 71)
    roomy = monitor(db, client, "poll-roomy", now, budget=used + 1000)
    assert roomy["requests"] == 1 and roomy["next_poll_in_s"] == 60
    assert active_fixtures(db, now), "within budget: the watcher sees the active fixtures"

    tight = monitor(db, client, "poll-tight", now, budget=used + 1 + 10)
    assert tight["next_poll_in_s"] > 60 and "slowed to every" in tight["budget"]
    assert active_fixtures(db, now) == [], "the budget holds the next poll back"
    later = now + timedelta(seconds=tight["next_poll_in_s"] + 1)
    assert active_fixtures(db, later), "and lets it run when its time comes"
    assert "requests used, 9 left of" in render(collect(db, now))


def test_live_all_returns_the_same_fixtures_as_ids(db, standin, client):
    replay(db, standin, client, until=70)
    ids = sorted(d["_id"] for d in db[FIXTURES_ACTIVE].find({}, {"_id": 1}))
    by_ids = _fetch(client, ids, PollCost(False, 1))
    calls = client.calls
    by_live = _fetch(client, ids, PollCost(True, 1))
    assert sorted(f.id for f in by_live.fixtures) == sorted(f.id for f in by_ids.fixtures) == ids
    assert {f.id: f.events for f in by_live.fixtures} == {f.id: f.events for f in by_ids.fixtures}
    assert client.calls - calls >= 1


def test_listed_fixtures_are_asked_again_and_a_moved_kickoff_is_taken(db, standin, client):
    from footy.pipeline.fixtures import refresh_staging

    now = _at(standin, 0)
    ingest(db, client, BASE.date().isoformat(), TRACKING, now)
    listed = sorted(db[FIXTURES_STAGING].distinct("_id"))
    assert listed
    # What the store holds went stale: one kick-off and one status differ from the API's.
    moved, postponed = listed[0], listed[-1]
    real_kickoff = db[FIXTURES_STAGING].find_one({"_id": moved})["kickoff"]
    db[FIXTURES_STAGING].update_one({"_id": moved},
                                    {"$set": {"kickoff": real_kickoff + timedelta(hours=2)}})
    db[FIXTURES_STAGING].update_one({"_id": postponed}, {"$set": {"status": "TBD"}})

    later = now + timedelta(minutes=16)
    summary = refresh_staging(db, client, later, budget=7500)
    assert summary["due"] == len(listed) and summary["requests"] == 1  # one ids= batch
    assert set(summary["changed"]) == {moved, postponed}
    assert set(summary["changed"][moved]) == {"kickoff"}
    assert summary["changed"][postponed]["status"] == ["TBD", "NS"]
    assert db[FIXTURES_STAGING].find_one({"_id": moved})["kickoff"] == real_kickoff
    # Asked again only after 15 minutes; a spent budget asks nothing at all.
    assert refresh_staging(db, client, later + timedelta(minutes=5), budget=7500)["due"] == 0
    quiet = refresh_staging(db, client, later + timedelta(minutes=20), budget=10)
    assert quiet["due"] == 0 and quiet["requests"] == 0
