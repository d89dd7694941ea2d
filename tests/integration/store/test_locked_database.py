"""Store writes ride out a locked FerretDB file, and give up with a typed error.

A FerretDB of the test's own runs with a short SQLite busy timeout; the test takes SQLite's
write lock on the database file itself, as a long writer would, so FerretDB answers
"database is locked (SQLITE_BUSY)" to our writes while the lock is held.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import UTC, datetime

import pytest

from footy.store import GOALS, StoreError, connect, ensure_indexes, new_processing_status
from footy.store import retry as store_retry
from footy.store.goals import CONFIRMED, withdraw_goal

pytestmark = pytest.mark.integration

DB_NAME = "locked"
GOAL_ID = "7_1_9_normal_1"


@contextmanager
def write_lock_held(path, seconds: float):
    """Hold SQLite's write lock on ``path`` for ``seconds`` (from a thread), then release."""
    taken = threading.Event()

    def hold() -> None:
        conn = sqlite3.connect(path, timeout=5, isolation_level=None)
        conn.execute("BEGIN IMMEDIATE")
        taken.set()
        time.sleep(seconds)
        conn.execute("ROLLBACK")
        conn.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(5), "could not take the write lock"
    try:
        yield
    finally:
        holder.join()


@pytest.fixture
def locked_store(private_ferretdb):
    server = private_ferretdb("_pragma=busy_timeout(100)")
    db = connect(server.uri, DB_NAME)
    ensure_indexes(db)
    db[GOALS].insert_one(
        {"_id": GOAL_ID, "status": CONFIRMED, "processing_status": new_processing_status()}
    )
    yield db, server.sqlite_file(DB_NAME)
    db.client.close()


def test_a_write_waits_out_the_lock(locked_store, caplog):
    db, sqlite_file = locked_store
    caplog.set_level(logging.WARNING, logger=store_retry.__name__)
    with write_lock_held(sqlite_file, seconds=1.0):
        withdrawn = withdraw_goal(db, GOAL_ID, "var", datetime.now(UTC))

    assert withdrawn is True
    assert db[GOALS].find_one({"_id": GOAL_ID})["status"] == "withdrawn"
    retries = [r for r in caplog.records if "database is locked" in r.getMessage()]
    assert retries, "the write should have been refused at least once, then retried"


def test_a_lock_that_outlasts_the_retries_is_a_store_error(locked_store, monkeypatch):
    db, sqlite_file = locked_store
    monkeypatch.setattr(store_retry, "ATTEMPTS", 2)
    monkeypatch.setattr(store_retry, "MAX_WAIT_SECONDS", 0.2)
    with write_lock_held(sqlite_file, seconds=3.0):
        with pytest.raises(StoreError, match="stayed locked through 2 attempts"):
            withdraw_goal(db, GOAL_ID, "var", datetime.now(UTC))

    assert db[GOALS].find_one({"_id": GOAL_ID})["status"] == CONFIRMED
