"""Planning API-Football requests: the cheaper poll, and a day's budget spread evenly."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from footy.api_budget import (
    RESERVE,
    budget_from_env,
    last_match_end,
    plan_polls,
    poll_cost,
)
from footy.errors import ConfigError

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
MINUTE = timedelta(seconds=60)


@pytest.mark.parametrize(("statuses", "live_all", "requests"), [
    (["1H"] * 20, False, 1),  # one ids= batch or one live=all: a tie keeps ids=
    (["1H"] * 21, True, 1),  # two batches against one live=all
    (["1H"] * 60, True, 1),  # three batches against one live=all
    (["2H"] * 400 + ["FT"] * 30, True, 3),  # a Saturday: live=all + 2 batches for the rest
    (["NS"] * 60, False, 3),  # nothing in play: live=all saves nothing
    ([], False, 0),
])  # fmt: skip
def test_the_cheaper_poll_is_chosen(statuses, live_all, requests):
    cost = poll_cost(statuses)
    assert (cost.live_all, cost.requests) == (live_all, requests)


def plan(**kw):
    args = {"now": NOW, "base_interval": MINUTE, "budget": 7500, "used": 0,
            "api_remaining": None, "cost": 1, "last_match_ends": NOW + timedelta(hours=3)}
    return plan_polls(**{**args, **kw})


def test_within_budget_polls_at_the_configured_interval():
    p = plan(budget=200)  # 180 polls of 1 request fit in 195 usable
    assert p.interval == MINUTE and p.reason == "within budget"


def test_a_budget_that_would_run_out_slows_polling_evenly():
    p = plan(budget=100, used=5)  # the free plan: 90 usable requests for 3 hours
    assert p.interval == timedelta(hours=3) / 90
    assert "slowed to every 120s" in p.reason and p.requests_left == 95


def test_the_api_remaining_header_caps_what_is_left():
    assert plan(budget=7500, api_remaining=40).interval == timedelta(hours=3) / (40 - RESERVE)


def test_a_spent_budget_stops_polling_until_the_next_utc_day():
    p = plan(budget=100, used=96)
    assert NOW + p.interval == datetime(2026, 3, 15, tzinfo=UTC)
    assert "daily budget spent" in p.reason


def test_costlier_polls_slow_down_more():
    assert plan(budget=100, cost=3).interval == timedelta(hours=3) / (95 // 3)


def test_the_match_day_ends_after_the_last_kickoff_and_its_settling():
    kickoffs = [NOW, NOW + timedelta(hours=2)]
    assert last_match_end(kickoffs, NOW) == NOW + timedelta(hours=4, minutes=45)
    assert last_match_end([], NOW) == NOW


@pytest.mark.parametrize("raw", ["lots", "0", "-3", "1.5"])
def test_a_bad_budget_setting_is_refused_with_its_name(raw):
    with pytest.raises(ConfigError, match="FOOTY_API_DAILY_BUDGET"):
        budget_from_env({"FOOTY_API_DAILY_BUDGET": raw})


def test_the_budget_defaults_to_the_pro_plan():
    assert budget_from_env({}) == 7500
