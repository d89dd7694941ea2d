"""Stand-in scenario timeline and clock (pure), plus the clock control endpoint."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
import requests

from footy.api_football import parse_fixture
from footy.errors import ConfigError
from footy.goals import bucket_for_status, goal_events
from footy_testbed.standin.scenario import Clock, Scenario, load_scenario

BASE = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)


class FakeMonotonic:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# ---- clock ---------------------------------------------------------------------------------


def test_clock_runs_at_speed_and_can_be_set_advanced_paused_resumed():
    mono = FakeMonotonic()
    clock = Clock(speed=10, monotonic=mono)
    assert clock.now() == 0
    mono.now += 1.5
    assert clock.now() == pytest.approx(15)
    assert clock.set(100) == 100 and not clock.running
    mono.now += 50
    assert clock.now() == 100  # paused
    assert clock.advance(5) == 105 and not clock.running
    clock.run()
    mono.now += 2
    assert clock.now() == pytest.approx(125)
    clock.advance(10)
    assert clock.now() == pytest.approx(135) and clock.running
    clock.pause()
    mono.now += 9
    assert clock.now() == pytest.approx(135)
    clock.run(speed=1)
    mono.now += 1
    assert clock.now() == pytest.approx(136)
    snap = clock.snapshot(BASE)
    assert snap["now"] == "2026-03-14T15:02:16+00:00" and snap["speed"] == 1


def test_clock_rejects_non_positive_speed():
    with pytest.raises(ConfigError):
        Clock(speed=0)


# ---- timeline ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def matchday() -> Scenario:
    return load_scenario("test_matchday")


def status(sc: Scenario, fid: int, t: float):
    return sc.fixture(fid).status_at(t)[0:1] + sc.fixture(fid).status_at(t)[2:]


def test_regular_match_status_progression(matchday):
    # 2001: kick-off t=60, 1 s per minute, HT at 107, 2H at 137, FT at 186
    assert status(matchday, 2001, 0) == ("NS", None, None)
    assert status(matchday, 2001, 60) == ("1H", 1, None)
    assert status(matchday, 2001, 71.5) == ("1H", 12, None)
    assert status(matchday, 2001, 105) == ("1H", 45, 1)  # stoppage time
    assert status(matchday, 2001, 110) == ("HT", 45, None)
    assert status(matchday, 2001, 140) == ("2H", 49, None)
    assert status(matchday, 2001, 185) == ("2H", 90, 4)
    assert status(matchday, 2001, 186) == ("FT", 90, None)
    assert matchday.fixture(2001).status_at(186)[1] == "Match Finished"


def test_abandoned_keeps_its_minute_and_postponed_never_starts(matchday):
    assert status(matchday, 2002, 213) == ("2H", 62, None)
    assert status(matchday, 2002, 214) == ("ABD", 63, None)
    assert status(matchday, 2002, 500) == ("ABD", 63, None)
    assert status(matchday, 2003, 149) == ("NS", None, None)
    assert status(matchday, 2003, 150) == ("PST", None, None)
    assert matchday.fixture(2003).totals_at(300) == (None, None, None, None)


def test_extra_time_and_shootout(matchday):
    fx = matchday.fixture(2004)
    assert [status(matchday, 2004, t)[0] for t in (129, 134, 166, 183)] == [
        "BT", "ET", "P", "PEN"]
    assert status(matchday, 2004, 140) == ("ET", 97, None)
    item = fx.api_item(183, BASE, with_events=True)
    assert item["score"]["penalty"] == {"home": 2, "away": 3}
    assert item["goals"] == {"home": 1, "away": 1}
    parsed = parse_fixture(item)
    assert bucket_for_status(parsed.status_short) == "completed"
    assert [g.goal_id for g in goal_events(parsed)] == ["2004_33_2860_normal_1",
                                                        "2004_34_1622_normal_1"]
    assert sum(1 for e in parsed.events if e.comments == "Penalty Shootout") == 6


def test_events_appear_change_and_disappear(matchday):
    fx = matchday.fixture(2001)

    def goals(t):
        return [(g["key"], g["elapsed"], (g.get("player") or {}).get("name"))
                for g in fx.events_at(t) if g["type"] == "Goal"]

    assert goals(70) == []
    assert goals(71) == [("a-haaland-1", 12, "E. Haaland")]
    assert goals(79)[0] == ("a-haaland-1", 11, "E. Haaland")  # minute corrected
    assert goals(90)[1] == ("a-unknown-1", 31, None)  # scorer not yet known
    assert goals(97)[1] == ("a-unknown-1", 31, "G. Martinelli")
    assert ("a-var-1", 45, "P. Foden") in goals(105)
    assert "a-var-1" not in [k for k, *_ in goals(110)]  # VAR-disallowed
    assert [k for k, *_ in goals(186)] == ["a-haaland-1", "a-unknown-1", "a-own-1",
                                           "a-haaland-pen"]


def test_unknown_keys_are_kept_for_other_standins(matchday):
    fx = matchday.fixture(2001)
    state = fx.events_at(80)[0]
    assert isinstance(state["clips"], list) and state["key"] == "a-haaland-1"
    api = fx.api_events_at(80)[0]
    assert set(api) == {"time", "team", "player", "assist", "type", "detail", "comments"}
    raw = {"fixtures": [{"id": 1, "kickoff": 0, "league": {"id": 1}, "home": {"id": 1},
                         "away": {"id": 2}, "custom": {"a": 1},
                         "events": [{"t": 0, "elapsed": 1, "team": "home", "type": "Goal",
                                     "clips": [{"url": "/media/x.mp4"}]}]}],
           "x_api": {"bearer": "t"}}
    sc = Scenario.from_dict(raw)
    assert sc.raw["x_api"] == {"bearer": "t"} and sc.fixtures[0].raw["custom"] == {"a": 1}
    assert next(sc.all_events())[1].data["clips"] == [{"url": "/media/x.mp4"}]


def test_totals_lag_events(matchday):
    fx = matchday.fixture(2001)  # totals_lag 3 s; Haaland at 71
    assert fx.totals_at(59)[:2] == (None, None)
    assert fx.totals_at(60)[:2] == (0, 0)
    assert fx.totals_at(72)[:2] == (0, 0)
    assert fx.totals_at(74)[:2] == (1, 0)
    assert fx.totals_at(200)[:2] == (2, 2)  # own goal credited to the event team (away)


def test_api_item_dates_are_base_plus_kickoff(matchday):
    item = matchday.fixture(2001).api_item(0, BASE, with_events=False)
    assert item["fixture"]["date"] == "2026-03-14T15:01:00+00:00"
    assert item["fixture"]["timestamp"] == int(BASE.timestamp()) + 60
    assert "events" not in item
    assert parse_fixture(item).status_short == "NS"


def test_demo_covers_the_advertised_features():
    demo = load_scenario("demo")
    details = {e.data.get("detail") for _, e in demo.all_events()}
    assert {"Normal Goal", "Own Goal", "Penalty", "Missed Penalty"} <= details
    assert any(e.remove_at for _, e in demo.all_events())
    assert any((e.data.get("player") or {}).get("name") is None for _, e in demo.all_events())
    finals = {fx.timeline[-1].status for fx in demo.fixtures}
    assert {"FT", "PST", "ABD", "PEN"} <= finals
    assert max(fx.timeline[-1].t for fx in demo.fixtures) <= 15 * 60


@pytest.mark.parametrize("broken,where", [
    ({"fixtures": [{"id": "1"}]}, "fixtures[0].id"),
    ({"fixtures": [{"id": 1, "kickoff": 0, "league": {}, "home": {"id": 1},
                    "away": {"id": 2}, "timeline": [{"t": 5, "status": "XX"}]}]},
     "fixtures[0].timeline[0].status"),
    ({"fixtures": [{"id": 1, "kickoff": 0, "league": {}, "home": {"id": 1},
                    "away": {"id": 2}, "events": [{"t": 1, "elapsed": 1, "type": "Goal",
                                                   "team": "left"}]}]},
     "fixtures[0].events[0].team"),
    ({"fixtures": None}, "fixtures"),
])
def test_bad_scenarios_are_config_errors(broken, where):
    with pytest.raises(ConfigError) as err:
        Scenario.from_dict(broken)
    assert f"scenario: {where} " in str(err.value)


def test_unknown_scenario_name_is_a_config_error():
    with pytest.raises(ConfigError):
        load_scenario("no_such_scenario")


# ---- clock over HTTP -----------------------------------------------------------------------


@pytest.mark.integration
def test_clock_control_endpoint():
    from footy_testbed.standin.server import start_in_thread

    with start_in_thread("test_matchday", speed=50, base_time=BASE) as srv:
        url = srv.url + "/_standin/clock"
        snap = requests.post(url, json={"t": 100}, timeout=5).json()
        assert snap == {"t": 100.0, "running": False, "speed": 50.0,
                        "now": "2026-03-14T15:01:40+00:00"}
        assert requests.post(url, json={"advance": 6}, timeout=5).json()["t"] == 106
        assert requests.get(url, timeout=5).json()["t"] == 106
        running = requests.post(url, json={"run": True}, timeout=5).json()
        assert running["running"] is True
        time.sleep(0.2)
        assert requests.get(url, timeout=5).json()["t"] >= 106 + 0.2 * 50 * 0.8
        assert srv.world.now() > 106
