"""Live-loop benchmark: the database work of one ``monitor_fixtures`` poll on FerretDB.

    .venv/bin/python benchmarks/poll_benchmark.py [--fixtures 500] [--goals-per-fixture 3]

N live fixtures in API-Football's ``/fixtures`` shape (status, elapsed minute, score,
goal/card/substitution events) are stored as active, then polled as the DAG polls them
(``footy.pipeline.fixtures.monitor``), with the HTTP call replaced by the parsed payload so
that only the database work is timed. Printed per poll: wall time and the number of fixture
documents written. Polls: the first (every fixture new to the poll), two more in which
every fixture's goals pass their debounce (3 polls), one in which only the minute moves on,
and one in which one fixture has a new goal. MongoDB: ``$MONGO_URI``, else the project's FerretDB.
Figures only; no assertions.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

from pymongo import MongoClient  # noqa: E402

from footy.api_football import FixtureBatch, parse_fixtures  # noqa: E402
from footy.pipeline.fixtures import monitor  # noqa: E402
from footy.store import FIXTURES_ACTIVE  # noqa: E402
from footy_testbed.services import project_mongo_uri  # noqa: E402

KICKOFF = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)


def _event(minute: int, team: tuple[int, str], kind: str, player: int) -> dict[str, Any]:
    detail = {"Goal": "Normal Goal", "Card": "Yellow Card", "subst": "Substitution 1"}[kind]
    return {
        "time": {"elapsed": minute, "extra": None},
        "team": {"id": team[0], "name": team[1], "logo": f"https://media.example/{team[0]}.png"},
        "player": {"id": player, "name": f"P. Player{player}"},
        "assist": {"id": None, "name": None},
        "type": kind, "detail": detail, "comments": None,
    }  # fmt: skip


def fixture_payload(n: int, minute: int, goals: int) -> dict[str, Any]:
    home, away = (1000 + 2 * n, f"Home {n}"), (1001 + 2 * n, f"Away {n}")
    rng, events, score = random.Random(n), [], [0, 0]
    for g in range(goals):
        side = g % 2
        score[side] += 1
        events.append(_event(5 + 9 * g, (home, away)[side], "Goal", 50_000 + 10 * n + g))
    events += [_event(30 + k, (home, away)[k % 2], rng.choice(["Card", "subst"]), 60_000 + k)
               for k in range(4)]  # fmt: skip
    events.sort(key=lambda e: e["time"]["elapsed"])
    return {
        "fixture": {"id": 900_000 + n, "date": KICKOFF.isoformat(), "timestamp": int(
            KICKOFF.timestamp()), "status": {"short": "2H", "long": "Second Half",
                                             "elapsed": minute, "extra": None}},
        "league": {"id": 1 + n % 60, "name": f"League {n % 60}", "season": 2026},
        "teams": {"home": {"id": home[0], "name": home[1]},
                  "away": {"id": away[0], "name": away[1]}},
        "goals": {"home": score[0], "away": score[1]},
        "events": events,
    }  # fmt: skip


class RecordedPoll:
    """Answers the poll from a prepared payload (no HTTP: DB work only); counts the requests
    the poll would have made."""

    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.batch: FixtureBatch = parse_fixtures(items)
        self.calls = 0
        self.rate_limit: dict[str, float | None] = {"day_remaining": None}

    def fixtures_by_ids(self, ids) -> FixtureBatch:
        self.calls += -(-len(list(ids)) // 20)
        return self.batch

    def live_fixtures(self) -> FixtureBatch:
        self.calls += 1
        return self.batch


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=int, default=500)
    ap.add_argument("--goals-per-fixture", type=int, default=3)
    args = ap.parse_args()
    client = MongoClient(project_mongo_uri(), serverSelectionTimeoutMS=10_000)
    db = client[f"footy_poll_bench_{os.getpid()}"]
    try:
        db[FIXTURES_ACTIVE].insert_many([
            {"_id": 900_000 + n, "status": "2H", "kickoff": KICKOFF, "activated_at": KICKOFF}
            for n in range(args.fixtures)
        ])  # fmt: skip
        now = KICKOFF + timedelta(minutes=50)

        def poll(name: str, minute: int, extra_goal: bool = False) -> None:
            items = [fixture_payload(n, minute, args.goals_per_fixture)
                     for n in range(args.fixtures)]  # fmt: skip
            if extra_goal:
                items[0] = fixture_payload(0, minute, args.goals_per_fixture + 1)
            source = RecordedPoll(items)
            t = time.perf_counter()
            summary = monitor(db, source, name, now + timedelta(minutes=minute))  # type: ignore[arg-type]
            took = time.perf_counter() - t
            print(f"{name:<28} {took:6.2f}s  {summary['writes']:>4} of {summary['polled']} "
                  f"fixtures written, {len(summary['changed'])} with goal changes, "
                  f"{len(summary['errors'])} errors, {summary['requests']} API request(s)"
                  f"{' (live=all)' if summary['live_all'] else ''}")  # fmt: skip

        print(f"{args.fixtures} live fixtures, {args.goals_per_fixture} goals each, "
              f"FerretDB/MongoDB at {client.address}")  # fmt: skip
        poll("first poll", 50)
        for k in (51, 52):
            poll(f"goals debounced (min {k})", k)
        poll("the minute moves on", 53)
        poll("one new goal", 54, extra_goal=True)
    finally:
        client.drop_database(db.name)
        client.close()


if __name__ == "__main__":
    main()
