"""API-Football request planning: how to poll the live fixtures, and how often (pure).

API-Football plans are a number of requests per day (100 on the free plan, 7,500 on Pro).
A poll costs one request per 20 tracked fixtures (``/fixtures?ids=``), or one request for
``/fixtures?live=all`` plus ``ids=`` batches for the tracked fixtures that are not in play
(not started yet, or finished and settling): :func:`poll_cost` takes whichever is cheaper.

:func:`plan_polls` spreads what is left of the day's budget evenly over the rest of the
match day: at the configured interval while the budget lasts; slower, evenly, when polling
at that interval would run out before the last match ends; not at all once the budget
is spent (until the next UTC day). The day's usage is counted in MongoDB
(``footy.store.api_usage``) and capped by what the API itself says is left
(``x-ratelimit-requests-remaining``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from footy.errors import ConfigError

IDS_PER_REQUEST = 20
IN_PLAY = frozenset({"1H", "HT", "2H", "ET", "BT", "P", "SUSP", "INT", "LIVE"})
MATCH_SPAN = timedelta(hours=2, minutes=30)  # kick-off to the latest a match usually ends
SETTLING = timedelta(minutes=15)  # polls after the final whistle, for late corrections
RESERVE = 5  # requests kept back for the next day's ingest and manual runs
DEFAULT_DAILY_BUDGET = 7500  # API-Football's Pro plan; the free plan is 100
BUDGET_ENV = "FOOTY_API_DAILY_BUDGET"


def budget_from_env(env: dict[str, str]) -> int:
    """The daily request budget (``FOOTY_API_DAILY_BUDGET``), validated."""
    raw = env.get(BUDGET_ENV, str(DEFAULT_DAILY_BUDGET))
    try:
        budget = int(raw)
    except ValueError:
        raise ConfigError(f"{BUDGET_ENV} must be a whole number of requests, not {raw!r}") from None
    if budget < 1:
        raise ConfigError(f"{BUDGET_ENV} must be at least 1, not {budget}")
    return budget


@dataclass(frozen=True)
class PollCost:
    live_all: bool  # poll /fixtures?live=all, then ids= for the fixtures not in play
    requests: int


def poll_cost(statuses: list[str]) -> PollCost:
    """The cheaper way to poll fixtures whose last known statuses are ``statuses``."""
    by_ids = math.ceil(len(statuses) / IDS_PER_REQUEST)
    not_in_play = sum(1 for s in statuses if s not in IN_PLAY)
    with_live = 1 + math.ceil(not_in_play / IDS_PER_REQUEST)
    if with_live < by_ids:
        return PollCost(True, with_live)
    return PollCost(False, by_ids)


@dataclass(frozen=True)
class PollPlan:
    interval: timedelta  # from this poll to the next
    requests_left: int
    reason: str


def plan_polls(
    *,
    now: datetime,
    base_interval: timedelta,
    budget: int,
    used: int,
    api_remaining: int | None,
    cost: int,
    last_match_ends: datetime,
) -> PollPlan:
    """When the next poll may run, given the day's budget and the match day left."""
    left = budget - used
    if api_remaining is not None:
        left = min(left, api_remaining)
    usable = left - RESERVE
    if cost <= 0:
        return PollPlan(base_interval, left, "nothing to poll")
    if usable < cost:
        tomorrow = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(),
                                    tzinfo=now.tzinfo)  # fmt: skip
        return PollPlan(tomorrow - now, left,
                        f"daily budget spent ({left} left, {RESERVE} kept back)")  # fmt: skip
    remaining_time = max(last_match_ends - now, base_interval)
    polls_affordable = usable // cost
    needed = math.ceil(remaining_time / base_interval)
    if polls_affordable >= needed:
        return PollPlan(base_interval, left, "within budget")
    interval = remaining_time / polls_affordable
    return PollPlan(
        interval,
        left,
        f"slowed to every {interval.total_seconds():.0f}s: {usable} requests for "
        f"{needed} polls of {cost} until {last_match_ends:%H:%M} UTC",
    )


def last_match_end(kickoffs: list[datetime], now: datetime) -> datetime:
    """When the match day ends: the latest kick-off plus a match and its settling polls."""
    if not kickoffs:
        return now
    return max(kickoffs) + MATCH_SPAN + SETTLING
