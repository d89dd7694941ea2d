"""When a search waits for its source's next request window (footy.pipeline.discover)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from footy.pipeline.discover import window_spent

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
RESET = NOW + timedelta(minutes=10)


def _window(remaining: int, reset: datetime = RESET, limit: int = 450) -> dict:
    return {"limit": limit, "remaining": remaining, "reset_at": reset}


def test_a_first_search_may_use_the_window_to_its_last_request():
    assert window_spent(_window(1), attempt=1, now=NOW, reserve=0.4) is None
    assert window_spent(_window(0), attempt=1, now=NOW, reserve=0.4) == RESET


def test_a_repeat_search_leaves_the_reserve_to_new_goals():
    assert window_spent(_window(181), attempt=2, now=NOW, reserve=0.4) is None
    assert window_spent(_window(180), attempt=2, now=NOW, reserve=0.4) == RESET
    assert window_spent(_window(180), attempt=2, now=NOW, reserve=0.0) is None


def test_an_unknown_or_past_window_holds_nothing_back():
    assert window_spent(None, attempt=5, now=NOW, reserve=0.4) is None
    assert window_spent({"remaining": None, "reset_at": RESET}, 5, NOW, 0.4) is None
    assert window_spent(_window(0, reset=NOW - timedelta(seconds=1)), 5, NOW, 0.4) is None
    naive = RESET.replace(tzinfo=None)  # as a MongoDB driver without tz_aware returns it
    assert window_spent(_window(0, reset=naive), 1, NOW, 0.4) == RESET
