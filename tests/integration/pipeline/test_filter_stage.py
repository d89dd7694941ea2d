"""filter_videos' stage logic against FerretDB and a local-folder ClipStorage holding real
H.264 clips rendered by ``footy_testbed.clipgen`` (re-encodes, crop, letterbox, another angle)."""

from __future__ import annotations

import dataclasses
import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from footy.dedup import METHOD_VERSION, Fingerprint, fingerprint
from footy.pipeline.filter import FilterConfig, filter_goal, goals_with_work, has_work
from footy.storage import LocalClipStorage, clip_key
from footy.store import (
    CLAIMS,
    GOALS,
    VIDEOS,
    Stage,
    claim_goal,
    new_processing_status,
    release,
)
from footy.store.goals import withdraw_goal
from footy_testbed import clipgen

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 14, 16, 0, tzinfo=UTC)
FIXTURE = 2001
S = clipgen.ClipSpec
SPECS = {
    "broadcast": S(0, start=2.0, duration=8.0),  # 720p 2.5 Mb/s
    "hd": S(0, start=3.0, duration=6.0, bitrate_kbps=8000, width=1920, height=1080),  # best
    "ld": S(0, start=3.0, duration=6.0, bitrate_kbps=600, width=640, height=360),
    "letterbox": S(0, start=2.0, duration=6.0, letterbox=True, width=854, height=480),
    "crop": S(0, start=3.0, duration=5.0, crop=0.05),
    "angle": S(0, angle=1, start=7.0, duration=6.0),  # a replay from another camera
}


@pytest.fixture(scope="session")
def clips(tmp_path_factory) -> dict[str, Path]:
    cache = Path(os.environ.get("FOOTY_CLIP_CACHE") or tmp_path_factory.mktemp("clips"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        paths = pool.map(lambda s: clipgen.render_cached(s, cache), SPECS.values())
    return dict(zip(SPECS, paths, strict=True))


@pytest.fixture
def storage(tmp_path) -> LocalClipStorage:
    return LocalClipStorage(tmp_path / "store")


def seed_goal(db, goal_id: str, *, downloaded: bool = True) -> None:
    status = new_processing_status(NOW)
    status.update(twitter_scraped=True, videos_downloaded=downloaded)
    db[GOALS].insert_one({
        "_id": goal_id, "status": "confirmed", "fixture_id": FIXTURE,
        "label": f"E. Haaland 11' Manchester City v Arsenal ({goal_id})",
        "processing_status": status,
    })  # fmt: skip


def store_clip(db, storage, goal_id: str, name: str, path: Path, source: str = "x") -> str:
    """A clip as the download stage leaves it: object in storage, video ``stored``."""
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    key = clip_key(FIXTURE, goal_id, sha)
    obj = storage.put(path, key, {"goal_id": goal_id}, len(data))
    vid = f"{goal_id}:{source}:{name}"
    db[VIDEOS].insert_one({
        "_id": vid, "goal_id": goal_id, "source": source, "source_id": name, "state": "stored",
        "sha256": sha, "storage": {"key": key, "url": obj.url, "size": obj.size},
    })  # fmt: skip
    return vid


def run(db, storage, goal_id: str, cfg: FilterConfig | None = None, now: datetime = NOW):
    """What the mapped task does: nothing when there is no work, else claim and filter."""
    if not has_work(db, goal_id):
        return None
    claim = claim_goal(db, Stage.FILTER, goal_id, "test", timedelta(minutes=5), now=now)
    assert claim is not None
    return filter_goal(db, storage, goal_id, claim, now, cfg or FilterConfig())


def videos(db, goal_id: str) -> dict[str, dict]:
    return {d["source_id"]: d for d in db[VIDEOS].find({"goal_id": goal_id})}


def snapshot(db, storage) -> dict:
    out = {c: sorted(db[c].find({}), key=lambda d: str(d["_id"])) for c in (GOALS, VIDEOS, CLAIMS)}
    out["objects"] = [(o.key, o.size) for o in storage.list()]
    return out


def test_keeps_the_best_copy_of_each_clip_and_a_rerun_changes_nothing(db, storage, clips):
    goal = "2001_50_1100_normal_1"
    seed_goal(db, goal)
    for name, path in clips.items():
        store_clip(db, storage, goal, name, path)
    bad = storage.root / "garbage.mp4"
    bad.parent.mkdir(parents=True, exist_ok=True)
    bad.write_bytes(os.urandom(40_000))
    store_clip(db, storage, goal, "corrupt", bad)
    bad.unlink()

    summary = run(db, storage, goal)

    v = videos(db, goal)
    hd, angle = f"{goal}:x:hd", f"{goal}:x:angle"
    assert {k for k, d in v.items() if d["state"] == "kept"} == {"hd", "angle"}
    for name in ("broadcast", "ld", "letterbox", "crop"):
        assert v[name]["state"] == "duplicate", name
        assert v[name]["duplicate_of"] == hd, name
        reason = v[name]["duplicate_reason"]
        assert "frames agree after registration" in reason, reason
        assert v[name]["storage"]["deleted_at"] and "delete_pending" not in v[name]["storage"]
    assert v["corrupt"]["state"] == "failed"
    assert v["corrupt"]["filter"]["error"]["type"] == "CorruptClipError"
    assert sorted(summary["kept"]) == [angle, hd] and summary["completed"] is True
    # fingerprints stored once, as binary, on every decoded clip
    fp = Fingerprint.from_bytes(v["hd"]["fingerprint"])
    assert (fp.eff_width, fp.eff_height) == (1920, 1080) and len(fp) > 50
    assert v["hd"]["quality"]["eff_width"] == 1920
    # only the keepers' objects remain (duplicates' and the corrupt clip's are deleted)
    assert {o.key for o in storage.list()} == {v["hd"]["storage"]["key"],
                                               v["angle"]["storage"]["key"]}
    status = db[GOALS].find_one({"_id": goal})["processing_status"]
    assert status["videos_filtered"] is True and status["completed"] is True
    assert goals_with_work(db, 10) == []

    # Re-running on the completed goal changes nothing: no claim, no write, no object.
    before = snapshot(db, storage)
    assert run(db, storage, goal, now=NOW + timedelta(minutes=5)) is None
    assert snapshot(db, storage) == before
    # Even a forced run (a claimed goal) decides nothing again.
    claim = claim_goal(db, Stage.FILTER, goal, "forced", timedelta(minutes=5), now=NOW)
    again = filter_goal(db, storage, goal, claim, NOW + timedelta(minutes=6), FilterConfig())
    assert again["kept"] == again["duplicates"] == again["failed"] == []
    assert snapshot(db, storage)[VIDEOS] == before[VIDEOS]
    assert snapshot(db, storage)["objects"] == before["objects"]


def test_a_later_better_copy_replaces_the_keeper(db, storage, clips):
    goal = "2001_50_1100_normal_1"
    seed_goal(db, goal, downloaded=False)
    for name in ("broadcast", "ld", "crop"):
        store_clip(db, storage, goal, name, clips[name])
    first = run(db, storage, goal)
    v = videos(db, goal)
    assert v["broadcast"]["state"] == "kept"
    assert v["ld"]["duplicate_of"] == v["crop"]["duplicate_of"] == f"{goal}:x:broadcast"
    assert first["completed"] is False  # downloads are not over yet
    fingerprinted_at = v["broadcast"]["filter"]["fingerprinted_at"]
    broadcast_key = v["broadcast"]["storage"]["key"]

    store_clip(db, storage, goal, "hd", clips["hd"])
    db[GOALS].update_one({"_id": goal}, {"$set": {"processing_status.videos_downloaded": True}})
    second = run(db, storage, goal, now=NOW + timedelta(minutes=2))

    v = videos(db, goal)
    hd = f"{goal}:x:hd"
    assert v["hd"]["state"] == "kept" and "better copy of" in v["hd"]["kept_reason"]
    assert v["broadcast"]["state"] == "duplicate" and v["broadcast"]["duplicate_of"] == hd
    assert "replaced by better copy" in v["broadcast"]["duplicate_reason"]
    for name in ("ld", "crop"):  # the old keeper's duplicates follow it to the new keeper
        assert v[name]["duplicate_of"] == hd and v[name]["repointed_from"] == f"{goal}:x:broadcast"
    assert second["replaced"] == [{"old": f"{goal}:x:broadcast", "new": hd}]
    assert second["completed"] is True
    assert storage.stat(broadcast_key) is None
    assert [o.key for o in storage.list()] == [v["hd"]["storage"]["key"]]
    # the old keeper was not decoded again: its stored fingerprint was reused
    assert v["broadcast"]["filter"]["fingerprinted_at"] == fingerprinted_at


def test_withdrawn_goal_clips_are_removed_even_after_they_were_kept(db, storage, clips):
    goal = "2001_50_631_normal_1"
    seed_goal(db, goal, downloaded=False)
    for name in ("broadcast", "ld", "angle"):
        store_clip(db, storage, goal, name, clips[name])
    run(db, storage, goal)
    assert {d["state"] for d in videos(db, goal).values()} == {"kept", "duplicate"}

    withdraw_goal(db, goal, "VAR: disallowed", NOW)
    store_clip(db, storage, goal, "crop", clips["crop"])  # a download that finished late
    assert goals_with_work(db, 10) == [goal]
    summary = run(db, storage, goal, now=NOW + timedelta(minutes=3))

    v = videos(db, goal)
    assert {d["state"] for d in v.values()} == {"removed"}
    assert all(d["storage"]["deleted_at"] for d in v.values())
    assert sorted(summary["removed"]) == sorted(d["_id"] for d in v.values())
    assert storage.list() == []
    assert goals_with_work(db, 10) == [] and run(db, storage, goal) is None
    assert db[GOALS].find_one({"_id": goal})["processing_status"]["completed"] is False


def test_a_goal_another_run_is_filtering_is_not_selected(db, storage, clips):
    goal = "2001_50_1100_normal_1"
    seed_goal(db, goal)
    store_clip(db, storage, goal, "broadcast", clips["broadcast"])
    other = claim_goal(db, Stage.FILTER, goal, "other-run", timedelta(minutes=5))
    assert goals_with_work(db, 10) == []
    release(db, other)
    assert goals_with_work(db, 10) == [goal]


def test_keeping_duplicate_objects_and_completing_a_goal_without_clips(db, storage, clips):
    goal, empty = "2001_50_1100_normal_1", "2001_42_567_own_1"
    seed_goal(db, goal)
    seed_goal(db, empty)  # downloads over, nothing stored
    for name in ("broadcast", "ld"):
        store_clip(db, storage, goal, name, clips[name])
    assert goals_with_work(db, 10) == sorted([goal, empty])

    run(db, storage, goal, FilterConfig.from_dict({"delete_duplicates": False}))
    v = videos(db, goal)
    assert v["ld"]["state"] == "duplicate" and "delete_pending" not in v["ld"]["storage"]
    assert storage.stat(v["ld"]["storage"]["key"]) is not None

    assert run(db, storage, empty)["completed"] is True
    status = db[GOALS].find_one({"_id": empty})["processing_status"]
    assert status["videos_filtered"] is True and status["completed"] is True
    assert goals_with_work(db, 10) == []


def test_identical_bytes_sharing_one_object_are_not_deleted_with_the_duplicate(
    db, storage, clips
):
    goal = "2001_50_1100_normal_1"
    seed_goal(db, goal)
    a = store_clip(db, storage, goal, "same", clips["ld"])
    b = store_clip(db, storage, goal, "same", clips["ld"], source="y")  # the same bytes again
    run(db, storage, goal)
    docs = {d["_id"]: d for d in db[VIDEOS].find()}
    assert {docs[a]["state"], docs[b]["state"]} == {"kept", "duplicate"}
    dup = a if docs[a]["state"] == "duplicate" else b
    assert docs[dup]["storage"]["shared_with"] == (b if dup == a else a)
    assert "deleted_at" not in docs[dup]["storage"]
    assert storage.stat(docs[a]["storage"]["key"]) is not None


def test_bad_filter_settings_are_refused():
    from footy.errors import ConfigError

    for bad in ({"delete_duplicates": "yes"}, {"max_read_attempts": 0}, {"delete": True}):
        with pytest.raises(ConfigError):
            FilterConfig.from_dict(bad)


def keep_with_legacy_fingerprint(db, storage, goal_id: str, name: str, path: Path) -> str:
    """A keeper as a version before dedup methods were recorded left it: kept, with a
    fingerprint of method 1 and no ``filter.method``."""
    vid = store_clip(db, storage, goal_id, name, path)
    legacy = dataclasses.replace(fingerprint(path), method=1)
    db[VIDEOS].update_one(
        {"_id": vid},
        {"$set": {"state": "kept", "kept_reason": "decided by method 1",
                  "fingerprint": legacy.to_bytes()}},
    )  # fmt: skip
    return vid


def test_keepers_of_an_older_dedup_method_are_decided_again_after_an_upgrade(
    db, storage, clips
):
    goal = "2001_50_1100_normal_9"
    seed_goal(db, goal)
    # The old method kept two copies of one footage apart, and a replay from another camera.
    for name in ("broadcast", "hd", "angle"):
        keep_with_legacy_fingerprint(db, storage, goal, name, clips[name])
    db[GOALS].update_one({"_id": goal}, {"$set": {"processing_status.videos_filtered": True,
                                                  "processing_status.completed": True}})
    assert goals_with_work(db, 10) == []  # scheduled runs leave finished goals alone...
    assert has_work(db, goal)  # ...a run that names the goal decides it again

    summary = run(db, storage, goal)

    v = videos(db, goal)
    assert v["broadcast"]["state"] == "duplicate"  # the old pair is one footage now
    assert v["broadcast"]["duplicate_of"] == f"{goal}:x:hd"
    assert {k for k, d in v.items() if d["state"] == "kept"} == {"hd", "angle"}
    assert sorted(summary["reconfirmed"]) == [f"{goal}:x:angle", f"{goal}:x:hd"]
    for name in ("hd", "angle"):  # recomputed with the current method, never compared old
        fp = Fingerprint.from_bytes(v[name]["fingerprint"])
        assert fp.method == METHOD_VERSION, name
        assert v[name]["filter"]["method"] == METHOD_VERSION, name
    assert {o.key for o in storage.list()} == {v["hd"]["storage"]["key"],
                                               v["angle"]["storage"]["key"]}
    # decided once: nothing left to do, and a second run changes nothing
    assert not has_work(db, goal)
    before = snapshot(db, storage)
    assert run(db, storage, goal, now=NOW + timedelta(minutes=5)) is None
    assert snapshot(db, storage) == before
