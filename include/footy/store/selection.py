"""Which run has mapped a goal for a stage: a hint that keeps overlapping runs apart.

A stage run lists its goals (sensor, ``select_goals``, ``collect_goals``) and maps one task
instance per goal; under load an instance waits minutes for an executor slot before it
claims its goal. Without a mark, every run that woke meanwhile (an Asset event, a watcher)
listed the same goals again, only for their instances to skip them: a quarter of a burst's
task instances. So the listing task marks its goals on the goal document
(``selection.{stage}: {"until", "by"}``); other runs and the stage's watcher leave a marked
goal alone until its run has worked on it (the mapped task releases the mark) or the hold is
over (a run that died). The claim a mapped task takes stays what makes work exclusive; two
runs that list a goal at the same instant still both map it, and one skips.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database

from footy.store.db import GOALS
from footy.store.retry import retry_when_locked

HOLD = timedelta(minutes=5)


def _field(stage: str) -> str:
    return f"selection.{stage}"


def not_selected_query(stage: str) -> dict[str, Any]:
    """Query clause: no live mark for ``stage`` (``"$$NOW"`` resolved by the caller)."""
    until = f"{_field(stage)}.until"
    return {"$or": [{until: {"$exists": False}}, {until: None}, {until: {"$lte": "$$NOW"}}]}


def unselected(db: Database, stage: str, goal_ids: list[str], now: datetime) -> list[str]:
    """``goal_ids`` without those another run has marked for ``stage``, in order."""
    if not goal_ids:
        return []
    marked = {d["_id"] for d in db[GOALS].find(
        {"_id": {"$in": list(goal_ids)}, f"{_field(stage)}.until": {"$gt": now}}, {"_id": 1})}
    return [g for g in goal_ids if g not in marked]


@retry_when_locked
def select(db: Database, stage: str, goal_ids: list[str], run_id: str, now: datetime,
           hold: timedelta = HOLD) -> None:  # fmt: skip
    """Mark the goals a run has mapped for ``stage``."""
    if goal_ids:
        db[GOALS].update_many({"_id": {"$in": list(goal_ids)}},
                              {"$set": {_field(stage): {"until": now + hold, "by": run_id}}})


@retry_when_locked
def release(db: Database, stage: str, goal_id: str, run_id: str) -> None:
    """The run is done with the goal for ``stage`` (worked on or skipped it)."""
    db[GOALS].update_one({"_id": goal_id, f"{_field(stage)}.by": run_id},
                         {"$unset": {_field(stage): ""}})
