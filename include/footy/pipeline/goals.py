"""process_goals: turn a fixture's debounced goal tracks into goal documents."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from pymongo.database import Database

from footy.errors import ConfigError
from footy.goals import CONFIRMED, WITHDRAWN, GoalTrack, goal_events
from footy.pipeline.fixtures import manual_events_fixture
from footy.store.fixtures import clear_goal_changes, find_fixture
from footy.store.goals import upsert_confirmed_goal, withdraw_goal

log = logging.getLogger(__name__)


def process_fixture_goals(db: Database, fixture_id: int, now: datetime) -> dict[str, Any]:
    """Upsert confirmed goals, withdraw disallowed ones, then mark the changes processed."""
    found = find_fixture(db, fixture_id)
    if found is None:
        raise ConfigError(f"fixture {fixture_id} is not known (ingest it first)")
    collection, doc = found
    seen_seq = doc.get("goal_changes", {}).get("seq", 0)
    new, refreshed, withdrawn = [], [], []
    for goal_id, record in sorted(doc.get("debounce", {}).items()):
        track = GoalTrack.from_record(record)
        if track.state == CONFIRMED:
            created = upsert_confirmed_goal(db, track, doc, now)
            (new if created else refreshed).append(goal_id)
        elif track.state == WITHDRAWN and track.ever_confirmed:
            if withdraw_goal(db, goal_id, track.withdrawn_reason or "withdrawn", now):
                withdrawn.append(goal_id)
    if not clear_goal_changes(db, collection, fixture_id, seen_seq):
        log.info("fixture %s: newer goal changes arrived meanwhile; left pending", fixture_id)
    return {"fixture_id": fixture_id, "label": doc.get("label"), "new_goals": new,
            "refreshed_goals": refreshed, "withdrawn_goals": withdrawn}


def process_manual_goals(
    db: Database, fixture_id: int, goal_events_conf: list[dict[str, Any]], now: datetime
) -> dict[str, Any]:
    """An operator's ``goal_events`` for a fixture: confirmed as given (no debounce)."""
    found = find_fixture(db, fixture_id)
    if found is None:
        raise ConfigError(f"fixture_id {fixture_id} is not known (ingest it first)")
    _, doc = found
    fixture = manual_events_fixture(doc, goal_events_conf)
    new, refreshed, held = [], [], []
    for obs in goal_events(fixture):
        if obs.goal_id is None:
            held.append(obs.minute)
            continue
        track = GoalTrack.from_observation(obs)
        created = upsert_confirmed_goal(db, track, doc, now)
        (new if created else refreshed).append(obs.goal_id)
    return {"fixture_id": fixture_id, "label": doc.get("label"), "new_goals": new,
            "refreshed_goals": refreshed, "withdrawn_goals": [], "held": held}
