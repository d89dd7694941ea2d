"""The fixture half of the pipeline replayed on the stand-in's clock, as the DAGs run it."""

from __future__ import annotations

from datetime import datetime, timedelta

from footy.api_football import ApiFootballClient
from footy.pipeline.fixtures import Tracking, advance, ingest, monitor
from footy.pipeline.goals import process_fixture_goals
from footy.store import FIXTURES_ACTIVE


def replay_until(db, standin, base: datetime, until: float, *, leagues: list[int]) -> None:
    """Ingest the day, then advance, poll and confirm every scenario second up to ``until``."""
    client = ApiFootballClient(standin.url, "test-key", timeout=(2, 5), max_attempts=2,
                               backoff_initial=0.05, backoff_max=0.2, max_total_wait=2)
    standin.world.clock.set(0)
    ingest(db, client, base.date().isoformat(), Tracking(leagues, [], 2025), base)
    for t in range(0, int(until) + 1):
        standin.world.clock.set(t)
        now = base + timedelta(seconds=t)
        advance(db, now, lead=timedelta(seconds=20))
        monitor(db, client, f"poll-{t}", now)
        for doc in db[FIXTURES_ACTIVE].find({"goal_changes.pending": True}, {"_id": 1}):
            process_fixture_goals(db, doc["_id"], now)
