"""Claims against the real MongoDB-wire server: exclusivity under races, expiry, fencing."""

from __future__ import annotations

import multiprocessing
import threading
from datetime import UTC, datetime, timedelta

import pytest

from footy.store import (
    CLAIMS,
    GOALS,
    Stage,
    claim_goal,
    connect,
    mark_stage_done,
    mark_stage_failed,
    new_processing_status,
)

pytestmark = pytest.mark.integration

GOAL_IDS = [f"100_{team}_9{n}_normal_1" for team in (1, 2) for n in range(10)]
LEASE = timedelta(minutes=5)


def _seed_goals(db):
    db[GOALS].insert_many(
        [
            {"_id": g, "fixture_id": 100, "processing_status": new_processing_status()}
            for g in GOAL_IDS
        ]
    )


def _claim_all(uri: str, db_name: str, owner: str, barrier, out) -> None:
    db = connect(uri, db_name)
    barrier.wait()
    won = [g for g in GOAL_IDS if claim_goal(db, Stage.DISCOVER, g, owner, LEASE)]
    out.put((owner, won))
    db.client.close()


def test_concurrent_threads_and_processes_claim_each_goal_once(db, mongo_uri, db_name):
    _seed_goals(db)
    ctx = multiprocessing.get_context("spawn")
    results = ctx.Queue()
    n_threads, n_procs = 6, 4
    barrier = ctx.Barrier(n_threads + n_procs)
    workers = [
        threading.Thread(target=_claim_all, args=(mongo_uri, db_name, f"t{i}", barrier, results))
        for i in range(n_threads)
    ] + [
        ctx.Process(target=_claim_all, args=(mongo_uri, db_name, f"p{i}", barrier, results))
        for i in range(n_procs)
    ]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    outcomes = [results.get(timeout=10) for _ in workers]

    won = [g for _, goals in outcomes for g in goals]
    assert sorted(won) == sorted(GOAL_IDS), "every goal claimed exactly once"
    assert db[CLAIMS].count_documents({}) == len(GOAL_IDS)
    for goal in db[GOALS].find():
        assert goal["processing_status"]["attempts"]["discover"] == 1


def test_live_claim_blocks_then_expired_claim_is_taken_over(db):
    _seed_goals(db)
    goal = GOAL_IDS[0]
    start = datetime.now(UTC)
    first = claim_goal(db, Stage.DOWNLOAD, goal, "crashed-worker", LEASE, now=start)
    assert first is not None and first.attempt == 1
    assert claim_goal(db, Stage.DOWNLOAD, goal, "other", LEASE, now=start) is None

    later = start + LEASE + timedelta(seconds=1)
    second = claim_goal(db, Stage.DOWNLOAD, goal, "rescuer", LEASE, now=later)
    assert second is not None and second.attempt == 2

    # The crashed worker wakes up late: its result must not overwrite the newer attempt.
    assert mark_stage_done(db, first) is False
    assert db[GOALS].find_one(goal)["processing_status"]["videos_downloaded"] is False
    assert mark_stage_done(db, second) is True
    assert db[GOALS].find_one(goal)["processing_status"]["videos_downloaded"] is True


def test_released_claim_can_be_claimed_again_and_other_stages_are_independent(db):
    _seed_goals(db)
    goal = GOAL_IDS[1]
    first = claim_goal(db, Stage.DISCOVER, goal, "a", LEASE)
    assert claim_goal(db, Stage.FILTER, goal, "b", LEASE) is not None
    assert mark_stage_done(db, first, finished=False) is True
    status = db[GOALS].find_one(goal)["processing_status"]
    assert status["twitter_scraped"] is False
    again = claim_goal(db, Stage.DISCOVER, goal, "c", LEASE)
    assert again is not None and again.attempt == 2


def test_failure_is_recorded_with_type_and_message(db):
    _seed_goals(db)
    claim = claim_goal(db, Stage.DISCOVER, GOAL_IDS[2], "a", LEASE)
    assert mark_stage_failed(db, claim, TimeoutError("search timed out after 20s")) is True
    status = db[GOALS].find_one(GOAL_IDS[2])["processing_status"]
    assert status["last_error"]["type"] == "TimeoutError"
    assert "20s" in status["last_error"]["message"]
    assert status["last_error"]["stage"] == "discover"
    assert status["errors"]["discover"] == 1
    assert status["twitter_scraped"] is False


def test_filter_done_completes_the_goal(db):
    _seed_goals(db)
    claim = claim_goal(db, Stage.FILTER, GOAL_IDS[3], "a", LEASE)
    assert mark_stage_done(db, claim)
    status = db[GOALS].find_one(GOAL_IDS[3])["processing_status"]
    assert status["videos_filtered"] is True and status["completed"] is True


def test_heartbeat_keeps_a_short_lease_alive_and_a_dead_worker_loses_it(db):
    from footy.store.heartbeat import ClaimHeartbeat

    _seed_goals(db)
    lease = timedelta(seconds=1.5)  # beats every 0.5 s
    working, crashed = GOAL_IDS[0], GOAL_IDS[1]
    live = claim_goal(db, Stage.FILTER, working, "worker", lease)
    dead = claim_goal(db, Stage.FILTER, crashed, "killed-worker", lease)  # no heartbeat
    with ClaimHeartbeat(db, live, lease) as beat:
        threading.Event().wait(3 * lease.total_seconds())  # twice the lease, and more
        assert claim_goal(db, Stage.FILTER, working, "other", lease) is None
        rescued = claim_goal(db, Stage.FILTER, crashed, "other", lease)
        assert rescued is not None and rescued.attempt == dead.attempt + 1
    assert beat.beats >= 4
    # Once the work is over and the beats stop, the lease runs out like any other.
    threading.Event().wait(lease.total_seconds() + 0.5)
    assert claim_goal(db, Stage.FILTER, working, "other", lease) is not None
