"""Retention against FerretDB and a real S3 endpoint (moto) and a local folder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from footy.pipeline.cleanup import clean_up, retention_from
from footy.store import (
    CLAIMS,
    FIXTURES_ACTIVE,
    FIXTURES_COMPLETED,
    FIXTURES_STAGING,
    GOALS,
    VIDEOS,
    Stage,
    claim_goal,
    new_processing_status,
)
from footy.store.db import API_USAGE

pytestmark = pytest.mark.integration

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
RETENTION = timedelta(days=14)
OLD, RECENT, BUSY, UNFINISHED = 1001, 1002, 1003, 1004


def _fixture(db, storage, tmp_path: Path, fixture_id: int, completed_days_ago: float, *,
             done: bool = True) -> str:  # fmt: skip
    db[FIXTURES_COMPLETED].insert_one(
        {"_id": fixture_id, "completed_at": NOW - timedelta(days=completed_days_ago)})
    goal_id = f"{fixture_id}_50_1100_normal_1"
    status = new_processing_status(NOW - timedelta(days=30))
    status["completed"] = done
    db[GOALS].insert_one({"_id": goal_id, "fixture_id": fixture_id, "status": "confirmed",
                          "processing_status": status})  # fmt: skip
    for n, state in enumerate(["kept", "duplicate", "failed"]):
        video = {"_id": f"{goal_id}:x:{n}", "goal_id": goal_id, "state": state}
        if state == "kept":
            key = f"{fixture_id}/{goal_id}/{n:016x}.mp4"
            clip = tmp_path / f"{fixture_id}-{n}.mp4"  # a stand-in body: only sizes count
            clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(1000 * (n + 1)))
            obj = storage.put(clip, key, {"goal_id": goal_id}, clip.stat().st_size)
            video["storage"] = {"key": key, "size": obj.size}
        db[VIDEOS].insert_one(video)
    return goal_id


def test_removes_only_what_is_old_and_finished(db, storage, tmp_path):
    old_goal = _fixture(db, storage, tmp_path, OLD, 20)
    claim_goal(db, Stage.FILTER, old_goal, "long-gone", timedelta(minutes=2),
               now=NOW - timedelta(days=19))  # an expired claim goes with it
    _fixture(db, storage, tmp_path, RECENT, 3)
    busy_goal = _fixture(db, storage, tmp_path, BUSY, 20)
    claim_goal(db, Stage.FILTER, busy_goal, "worker", timedelta(minutes=2), now=NOW)
    _fixture(db, storage, tmp_path, UNFINISHED, 20, done=False)
    db[FIXTURES_ACTIVE].insert_one({"_id": 2001, "kickoff": NOW - timedelta(days=30)})
    db[FIXTURES_STAGING].insert_many([{"_id": 3001, "kickoff": NOW - timedelta(days=20)},
                                      {"_id": 3002, "kickoff": NOW + timedelta(days=1)}])
    db[API_USAGE].insert_many([{"_id": "api_football:2026-11-01", "used": 10},
                               {"_id": "api_football:2026-12-03", "used": 5}])

    # A dry run reports exactly what the real run then removes, and removes nothing.
    before = {c: db[c].count_documents({}) for c in (GOALS, VIDEOS, CLAIMS)}
    objects_before = storage.list()
    dry = clean_up(db, storage, NOW, RETENTION, dry_run=True)
    assert [f["fixture"] for f in dry.fixtures] == [OLD]
    assert {c: db[c].count_documents({}) for c in (GOALS, VIDEOS, CLAIMS)} == before
    assert storage.list() == objects_before

    report = clean_up(db, storage, NOW, RETENTION)
    [removed] = report.fixtures
    assert removed["fixture"] == OLD and removed["fixture_removed"] is True
    assert (removed["goals"], removed["clips"], removed["claims"]) == (1, 3, 1)
    assert report.bytes_freed == dry.bytes_freed == removed["bytes"] == 1012
    assert {k["fixture"]: k["reason"].split(" ")[1] for k in report.kept_back} == {
        BUSY: "live", UNFINISHED: "not"}
    assert db[FIXTURES_COMPLETED].distinct("_id") == [RECENT, BUSY, UNFINISHED]
    assert db[GOALS].count_documents({"fixture_id": OLD}) == 0
    assert db[VIDEOS].count_documents({"goal_id": old_goal}) == 0
    assert not [o for o in storage.list() if o.key.startswith(f"{OLD}/")]
    assert {o.key.split("/")[0] for o in storage.list()} == {str(RECENT), str(BUSY),
                                                             str(UNFINISHED)}  # fmt: skip
    assert db[FIXTURES_ACTIVE].count_documents({}) == 1  # live fixtures are never touched
    assert db[FIXTURES_STAGING].distinct("_id") == [3002]
    assert db[API_USAGE].distinct("_id") == ["api_football:2026-12-03"]

    # Again: nothing left to remove.
    again = clean_up(db, storage, NOW, RETENTION)
    assert again.fixtures == [] and again.staging == 0 and again.usage_days == 0


def test_retention_setting_is_validated():
    assert retention_from(None) == RETENTION
    assert retention_from("7") == timedelta(days=7)
    for bad in ("two weeks", "0", "-3"):
        with pytest.raises(Exception) as raised:
            retention_from(bad)
        assert type(raised.value).__name__ == "ConfigError" and "footy_retention_days" in str(
            raised.value)
