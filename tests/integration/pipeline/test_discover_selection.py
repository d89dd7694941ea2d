"""Which of the goals a sensor found due a scrape_twitter run still searches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from footy.pipeline.discover import goals_still_due
from footy.store import GOALS, Stage, claim_goal, new_processing_status, release

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
