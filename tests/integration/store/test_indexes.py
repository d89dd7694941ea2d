"""Indexes are created explicitly, idempotently, and a failure is loud."""

from __future__ import annotations

import pytest

from footy.store import GOALS, VIDEOS, StoreError, ensure_indexes
from footy.store.db import INDEXES

pytestmark = pytest.mark.integration


def test_every_index_exists_and_a_second_run_is_a_no_op(db):
    ensure_indexes(db)  # the fixture already ran it once
    for collection, models in INDEXES.items():
        names = set(db[collection].index_information())
        assert {m.document["name"] for m in models} <= names


def test_videos_are_unique_per_goal_source_and_source_id(db):
    doc = {"goal_id": "g", "source": "x", "source_id": "1" * 19}
    db[VIDEOS].insert_one(dict(doc))
    with pytest.raises(Exception, match="(?i)duplicate"):
        db[VIDEOS].insert_one(dict(doc))


def test_an_index_that_cannot_be_created_fails_loudly(mongo_uri, db_name):
    from footy.store import connect

    fresh = connect(mongo_uri, db_name)
    try:
        # Squat the name with another definition: the real index cannot be created.
        fresh[GOALS].create_index([("something_else", 1)], name="fixture")
        fresh[GOALS].insert_many([{"_id": 1}, {"_id": 2}])
        with pytest.raises(StoreError, match="goals"):
            ensure_indexes(fresh)
    finally:
        fresh.client.drop_database(db_name)


def test_processes_starting_together_all_get_their_indexes(mongo_uri, db_name):
    """Many workers' first task runs ensure_indexes at once on an empty database."""
    import threading

    from footy.store import connect

    errors: list[BaseException] = []
    barrier = threading.Barrier(6)

    def start_up() -> None:
        db = connect(mongo_uri, db_name)
        barrier.wait()
        try:
            ensure_indexes(db)
        except BaseException as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)
        finally:
            db.client.close()

    threads = [threading.Thread(target=start_up) for _ in range(6)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)
        assert errors == []
    finally:
        connect(mongo_uri, db_name).client.drop_database(db_name)
