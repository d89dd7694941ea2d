"""The goal-time estimate that anchors a goal's clip search window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from footy.pipeline.discover import HALF_TIME_BREAK, estimated_goal_time

KICKOFF = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
NOW = KICKOFF + timedelta(hours=3)


def goal(elapsed: int, **times: datetime) -> dict:
    return {"_id": "g", "kickoff": KICKOFF, "elapsed": elapsed, "extra": None, **times}


def test_match_clock_estimate_when_polls_saw_the_goal_later():
    seen = KICKOFF + timedelta(minutes=15)
    confirmed = seen + timedelta(minutes=3)
    assert estimated_goal_time(goal(12, first_seen_after=seen, confirmed_at=confirmed), NOW) == (
        KICKOFF + timedelta(minutes=12)
    )


def test_second_half_goals_count_the_break():
    late = KICKOFF + timedelta(hours=2)
    estimate = estimated_goal_time(goal(67, first_seen_after=late, confirmed_at=late), NOW)
    assert estimate == KICKOFF + timedelta(minutes=67) + HALF_TIME_BREAK


def test_the_poll_before_the_goal_caps_a_match_clock_that_runs_late():
    # Delayed kick-off or a compressed replay: the match clock puts the goal after the poll
    # that already showed it, and after a slow debounce's confirmation the clips are older.
    seen = KICKOFF + timedelta(minutes=2)
    confirmed = seen + timedelta(seconds=150)
    assert estimated_goal_time(goal(40, first_seen_after=seen, confirmed_at=confirmed), NOW) == seen


def test_confirmation_caps_goals_stored_before_first_seen_after_existed():
    confirmed = KICKOFF + timedelta(minutes=2)
    assert estimated_goal_time(goal(40, confirmed_at=confirmed), NOW) == confirmed


def test_naive_database_times_are_utc():
    seen = datetime(2026, 3, 14, 15, 2)
    assert estimated_goal_time(goal(40, first_seen_after=seen), NOW) == seen.replace(tzinfo=UTC)
