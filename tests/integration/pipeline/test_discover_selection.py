"""Which of the goals a sensor found due a scrape_twitter run still searches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from footy.pipeline.discover import goals_still_due
from footy.store import GOALS, Stage, claim_goal, new_processing_status, release, selection
from footy.store.discovery import due_goal_ids

pytestmark = pytest.mark.integration

NOW = datetime.now(UTC)


def _goal(db, goal_id: str, next_at: datetime | None) -> None:
    status = new_processing_status(NOW)
    if next_at is not None:
        status["search"] = {"next_at": next_at}
    db[GOALS].insert_one({"_id": goal_id, "status": "confirmed", "processing_status": status})


def test_only_goals_still_due_and_unclaimed_are_searched(db):
    _goal(db, "due", None)
    _goal(db, "searched_meanwhile", NOW + timedelta(seconds=30))  # another run just did it
    _goal(db, "claimed", NOW - timedelta(seconds=1))
    other = claim_goal(db, Stage.DISCOVER, "claimed", "other-run", timedelta(minutes=5), now=NOW)
    found = ["due", "searched_meanwhile", "claimed", "unknown"]

    assert goals_still_due(db, found, NOW) == ["due"]
    release(db, other)
    assert goals_still_due(db, found, NOW) == ["due", "claimed"]
    assert goals_still_due(db, [], NOW) == []


def test_a_goal_mapped_by_one_run_is_left_to_it_until_searched_or_held_too_long(db):
    _goal(db, "mapped", None)
    _goal(db, "free", None)
    selection.select(db, Stage.DISCOVER, ["mapped"], "run-a", NOW)

    # another run waking now (sensor, selection, watcher) leaves the mapped goal alone
    assert goals_still_due(db, ["mapped", "free"], NOW) == ["free"]
    assert due_goal_ids(db, NOW) == ["free"]
    selection.release(db, Stage.DISCOVER, "mapped", "run-b")  # not run-b's to release
    assert due_goal_ids(db, NOW) == ["free"]
    # a run that died with the goal mapped holds it for the hold only
    assert due_goal_ids(db, NOW + selection.HOLD) == ["free", "mapped"]
    # a mark for another stage is not this stage's business
    selection.release(db, Stage.DISCOVER, "mapped", "run-a")  # searched (or skipped) by its run
    selection.select(db, Stage.FILTER, ["mapped"], "run-c", NOW)
    assert due_goal_ids(db, NOW) == ["free", "mapped"]
    assert selection.unselected(db, Stage.FILTER, ["free", "mapped"], NOW) == ["free"]
    assert selection.unselected(db, Stage.DOWNLOAD, ["free", "mapped"], NOW) == ["free", "mapped"]


def test_goals_not_searched_yet_come_before_repeat_attempts(db):
    _goal(db, "a_searched_once", NOW - timedelta(seconds=5))
    db[GOALS].update_one({"_id": "a_searched_once"},
                         {"$set": {"processing_status.search.attempts": 1}})
    _goal(db, "b_searched_twice", NOW - timedelta(seconds=5))
    db[GOALS].update_one({"_id": "b_searched_twice"},
                         {"$set": {"processing_status.search.attempts": 2}})
    _goal(db, "c_new", None)
    _goal(db, "d_new", None)

    assert due_goal_ids(db, NOW) == ["c_new", "d_new", "a_searched_once", "b_searched_twice"]
    assert due_goal_ids(db, NOW, limit=2) == ["c_new", "d_new"]
