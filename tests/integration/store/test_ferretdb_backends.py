"""FerretDB on PostgreSQL, as ``scripts/service`` runs it (nested pushdown: PostgreSQL picks
the documents a dotted field matches), answers the stages' queries exactly as FerretDB on
SQLite does, on the same documents in every state a goal, clip, claim and fixture can be in.

Pushdown only narrows what FerretDB reads; FerretDB still filters it. So it can only go wrong
by leaving out a document that matches, which is what this compares, query by query. The one
shape known to be left out is an array on a queried path ({"processing_status": [{...}]});
footy never stores one there, and this test fails when such a goal is added.
"""

from __future__ import annotations

import itertools
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pymongo.database import Database

from footy.store import (
    CLAIMS,
    GOALS,
    VIDEOS,
    backlog,
    connect,
    ensure_indexes,
    new_processing_status,
)
from footy.store.claims import unclaimed
from footy.store.db import FIXTURES_ACTIVE
from footy.store.discovery import due_goal_ids, unsearched_goal_ids
from footy.store.downloads import due_candidates, goals_with_download_work, pending_count
from footy.store.filtering import goal_has_filter_work, goals_with_filter_work
from footy.store.selection import release, unselected
from footy.store.status import Stage
from footy_testbed.services import ServiceStack

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 14, 15, 0, tzinfo=UTC)
PAST, FUTURE = NOW - timedelta(minutes=5), NOW + timedelta(minutes=5)
MISSING = object()  # a field the document does not have


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def postgres_ferretdb(mongo_uri: str, tmp_path: Path) -> Iterator[str]:
    """A FerretDB on a PostgreSQL of the test's own, started by ``scripts/service``."""
    if os.environ.get("MONGO_URI"):
        pytest.skip("compares the project's own FerretDB backends")
    postgres_dir = Path(tempfile.mkdtemp(prefix="footy-pg-"))  # reachable by the postgres user
    postgres_dir.chmod(0o755)
    port = _free_port()
    stack = ServiceStack({**os.environ, "FOOTY_STATE_DIR": str(tmp_path / "state"),
                          "FOOTY_FERRETDB_BACKEND": "postgresql",
                          "FOOTY_FERRETDB_PORT": str(port),
                          "FOOTY_POSTGRES_PORT": str(_free_port()),
                          "FOOTY_POSTGRES_DIR": str(postgres_dir)})  # fmt: skip
    try:
        stack.start("ferretdb")
        yield f"mongodb://127.0.0.1:{port}/"
    finally:
        stack.started = ["postgres", "ferretdb"]  # ferretdb started its postgres: stop both
        stack.stop()
        shutil.rmtree(postgres_dir, ignore_errors=True)


def _set(doc: dict[str, Any], path: str, value: Any) -> None:
    *parents, leaf = path.split(".")
    for key in parents:
        doc = doc.setdefault(key, {})
    if value is not MISSING:
        doc[leaf] = value


def _goals() -> list[dict[str, Any]]:
    """One goal per combination of what the stages' queries look at."""
    goals = []
    combinations = itertools.product(
        ["confirmed", "withdrawn", "held"],  # status
        [False, True, MISSING],  # twitter_scraped
        [False, True],  # videos_downloaded
        [False, True, None],  # videos_filtered
        [MISSING, None, PAST, FUTURE],  # search.next_at
        [MISSING, None, PAST, FUTURE],  # selection mark's until (same for every stage)
    )
    for n, (status, scraped, downloaded, filtered, next_at, until) in enumerate(combinations):
        goal = {"_id": f"3001_50_{n}_normal_1", "fixture_id": 3001 + n % 7, "status": status,
                "processing_status": new_processing_status(NOW)}  # fmt: skip
        _set(goal, "processing_status.twitter_scraped", scraped)
        _set(goal, "processing_status.videos_downloaded", downloaded)
        _set(goal, "processing_status.videos_filtered", filtered)
        if next_at is not MISSING:
            goal["processing_status"]["search"] = {"next_at": next_at, "attempts": n % 3}
        if until is not MISSING:
            goal["selection"] = {stage.value: {"until": until, "by": f"run_{n % 2}"}
                                 for stage in Stage}  # fmt: skip
        goals.append(goal)
    return goals


def _videos(goal_ids: list[str]) -> list[dict[str, Any]]:
    states = ["candidate", "stored", "kept", "duplicate", "failed", "rejected", "removed"]
    videos = []
    combinations = itertools.product(states, [MISSING, PAST, FUTURE], [MISSING, True, False])
    for n, (state, next_attempt, delete_pending) in enumerate(combinations):
        goal_id = goal_ids[(n * 37) % len(goal_ids)]  # spread over goals in every state
        video = {"_id": f"{goal_id}:x:{n}", "goal_id": goal_id, "source": "x",
                 "source_id": str(n), "state": state, "popularity": n % 5}  # fmt: skip
        _set(video, "download.next_attempt_at", next_attempt)
        _set(video, "storage.delete_pending", delete_pending)
        _set(video, "filter.method", n % 3 if n % 4 else MISSING)
        videos.append(video)
    return videos


def _claims(goal_ids: list[str]) -> list[dict[str, Any]]:
    claims = []
    for n, (goal_id, stage, released, expires_at) in enumerate(itertools.product(
            goal_ids[::5], list(Stage), [False, True], [PAST, FUTURE])):
        claims.append({"_id": f"{stage.value}:{goal_id}:{n}", "stage": stage.value,
                       "goal_id": goal_id, "attempt": n, "owner": "w", "released": released,
                       "expires_at": expires_at})  # fmt: skip
    return claims


def _fixtures() -> list[dict[str, Any]]:
    return [{"_id": 9000 + n, "fixture": {"status": {"short": short}},
             **({"goal_changes": {"pending": pending}} if pending is not MISSING else {})}
            for n, (short, pending) in enumerate(itertools.product(
                ["1H", "HT", "FT"], [True, False, None, MISSING]))]  # fmt: skip


def _load(db: Database) -> list[str]:
    ensure_indexes(db)
    goals = _goals()
    ids = [g["_id"] for g in goals]
    db[GOALS].insert_many(goals)
    db[VIDEOS].insert_many(_videos(ids))
    db[CLAIMS].insert_many(_claims(ids))
    db[FIXTURES_ACTIVE].insert_many(_fixtures())
    return ids


def _answers(db: Database, ids: list[str]) -> dict[str, Any]:
    """What every stage asks the database, on these documents."""
    answers: dict[str, Any] = {f"waiting:{kind}": backlog.waiting(db, kind, NOW)
                               for kind in backlog.FINDERS}  # fmt: skip
    answers["due_goal_ids"] = due_goal_ids(db, NOW)
    answers["unsearched_goal_ids"] = unsearched_goal_ids(db)
    answers["goals_with_download_work"] = goals_with_download_work(db, NOW, limit=10_000)
    answers["goals_with_filter_work"] = goals_with_filter_work(db, limit=10_000)
    for stage in Stage:
        answers[f"unclaimed:{stage.value}"] = unclaimed(db, stage.value, ids, NOW)
        answers[f"unselected:{stage.value}"] = unselected(db, stage.value, ids, NOW)
    for goal_id in sorted({v["goal_id"] for v in db[VIDEOS].find({}, {"goal_id": 1})})[:20]:
        answers[f"due:{goal_id}"] = [v["_id"] for v in due_candidates(db, goal_id, NOW)]
        answers[f"pending:{goal_id}"] = pending_count(db, goal_id)
        answers[f"filter_work:{goal_id}"] = goal_has_filter_work(db, goal_id, 1)
    return answers


def test_postgresql_backend_answers_as_sqlite_does(db, db_name, postgres_ferretdb):
    on_postgres = connect(postgres_ferretdb, db_name)
    try:
        ids = _load(db)
        assert _load(on_postgres) == ids
        expected = _answers(db, ids)
        empty = sorted(k for k, v in expected.items() if ":3001_" not in k and not v)
        assert empty == [], "documents in no state some query finds"
        assert _answers(on_postgres, ids) == expected

        # A conditional update on a dotted field changes the same documents.
        for database in (db, on_postgres):
            for goal_id in ids[::24]:
                release(database, Stage.DOWNLOAD, goal_id, "run_1")
        fields = {"_id": 1, "selection": 1}
        assert (list(on_postgres[GOALS].find({}, fields).sort("_id", 1))
                == list(db[GOALS].find({}, fields).sort("_id", 1)))  # fmt: skip
    finally:
        on_postgres.client.drop_database(db_name)
        on_postgres.client.close()
