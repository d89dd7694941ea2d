"""The download stage against real services: FerretDB, the stand-in clip host (real H.264
rendered by clipgen), real yt-dlp, a moto S3 server and a local folder. No mocks."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from footy.pipeline.download import DownloadSettings, download_goal, select_goals
from footy.storage import ClipStorage, LocalClipStorage, S3ClipStorage, clip_key
from footy.store import CLAIMS, GOALS, VIDEOS, Stage, claim_goal, new_processing_status, release
from footy.store.downloads import claim_clip
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[3]
GOAL = "2001_50_1100_normal_1"
FIXTURE = 2001
HAALAND = "1900000000000077001"  # 1280x720, 8 s
HAALAND_CROP = "1900000000000079002"
PORTRAIT = "1900000000000083004"  # a 720x1280 phone recording
OWNER = "test-worker"


# ---- services --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def standin() -> Iterator[Any]:
    handle = start_in_thread("test_matchday", paused_at=0)
    yield handle
    handle.stop()


@pytest.fixture(autouse=True)
def stand_in_allowed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stand-in host is allowed by configuration, as in the demo."""
    monkeypatch.setenv("FOOTY_X_MEDIA_HOSTS", "127.0.0.1")
    monkeypatch.setenv("FOOTY_DOWNLOAD_ALLOW_PRIVATE", "1")


@pytest.fixture
def settings(tmp_path: Path) -> DownloadSettings:
    return replace(DownloadSettings.from_env({}), work_dir=tmp_path / "work", socket_timeout=5,
                   retries=1)


@pytest.fixture(autouse=True)
def clear_faults(standin: Any) -> Iterator[None]:
    standin.world.clear_faults()
    yield
    standin.world.clear_faults()


# ---- documents -------------------------------------------------------------------------------


def add_goal(db: Any, goal_id: str = GOAL, *, scraped: bool = True) -> dict[str, Any]:
    status = new_processing_status(datetime.now(UTC))
    status["twitter_scraped"] = scraped
    doc = {
        "_id": goal_id, "status": "confirmed", "fixture_id": FIXTURE, "minute": "11'",
        "player_name": "E. Haaland", "team_name": "Manchester City",
        "opponent_name": "Arsenal", "label": "E. Haaland 11' Manchester City v Arsenal",
        "processing_status": status,
    }  # fmt: skip
    db[GOALS].insert_one(doc)
    return doc


def add_candidate(db: Any, url: str, tweet_id: str, goal_id: str = GOAL,
                  popularity: int = 10) -> str:  # fmt: skip
    video_id = f"{goal_id}:x:{tweet_id}"
    db[VIDEOS].insert_one({
        "_id": video_id, "goal_id": goal_id, "source": "x", "source_id": tweet_id,
        "post_url": f"https://x.com/i/status/{tweet_id}", "media_url": url,
        "posted_at": datetime.now(UTC), "width": 1280, "height": 720, "duration_s": 8.0,
        "bitrate": 2_500_000, "text": "goal", "popularity": popularity, "state": "candidate",
    })  # fmt: skip
    return video_id


def media_url(standin: Any, tweet_id: str) -> str:
    return f"{standin.url}/media/{tweet_id}.mp4"


def run(db: Any, storage: ClipStorage, settings: DownloadSettings, **kw: Any) -> dict[str, Any]:
    return download_goal(db, kw.pop("goal_id", GOAL), storage, owner=kw.pop("owner", OWNER),
                         settings=settings, **kw)  # fmt: skip


def stored_bytes(storage: ClipStorage, key: str) -> bytes:
    if isinstance(storage, LocalClipStorage):
        return (storage.root / key).read_bytes()
    assert isinstance(storage, S3ClipStorage)
    full = f"{storage.prefix}/{key}"
    return storage.client.get_object(Bucket=storage.bucket, Key=full)["Body"].read()


def assert_nothing_left(storage: ClipStorage, settings: DownloadSettings) -> None:
    assert storage.list() == []
    if isinstance(storage, LocalClipStorage) and storage.root.exists():
        assert [p for p in storage.root.rglob("*") if p.is_file()] == []  # no temp/sidecar
    leftovers = list(settings.work_dir.rglob("*")) if settings.work_dir.exists() else []
    assert leftovers == []


# ---- happy path ------------------------------------------------------------------------------


def test_stores_clips_with_key_metadata_and_numbers(db, standin, storage, settings):
    add_goal(db)
    first = add_candidate(db, media_url(standin, HAALAND), HAALAND, popularity=50)
    low = f"{media_url(standin, HAALAND_CROP)}?bitrate=900000"
    second = add_candidate(db, low, HAALAND_CROP)

    summary = run(db, storage, settings)

    assert sorted(summary["stored"]) == sorted([first, second]) and summary["finished"]
    for video_id, url in ((first, media_url(standin, HAALAND)), (second, low)):
        video = db[VIDEOS].find_one({"_id": video_id})
        assert video["state"] == "stored"
        key = clip_key(FIXTURE, GOAL, video["sha256"])
        assert video["storage"]["key"] == key == f"{FIXTURE}/{GOAL}/{video['sha256'][:16]}.mp4"
        assert video["storage"]["url"] == storage.url_for(key)
        data = stored_bytes(storage, key)
        assert hashlib.sha256(data).hexdigest() == video["sha256"]
        assert video["storage"]["size"] == len(data) == video["file"]["size"]
        assert (video["file"]["width"], video["file"]["height"]) == (1280, 720)
        assert video["file"]["duration_s"] == pytest.approx(8.0, abs=0.1)
        assert video["download"]["attempts"] == 1
        meta = storage.metadata(key)
        assert meta["goal_id"] == GOAL and meta["fixture_id"] == str(FIXTURE)
        assert meta["player"] == "E. Haaland" and meta["team"] == "Manchester City"
        assert meta["minute"] == "11'" and meta["source_url"] == url
        assert (meta["width"], meta["height"]) == ("1280", "720")
        assert float(meta["duration"]) == pytest.approx(8.0, abs=0.1)
    goal = db[GOALS].find_one({"_id": GOAL})
    assert goal["processing_status"]["videos_downloaded"] is True
    assert goal["processing_status"]["download_counts"] == {"stored": 2}
    assert db[CLAIMS].count_documents({"stage": "download-clip", "released": False}) == 0
    assert list(settings.work_dir.iterdir()) == []

    # A re-run changes nothing and fetches nothing.
    before = len(standin.world.requests)
    again = run(db, storage, settings)
    assert again["stored"] == [] and len(standin.world.requests) == before
    assert len(storage.list()) == 2


def test_the_same_clip_twice_is_one_object(db, standin, storage, settings):
    add_goal(db)
    url = media_url(standin, HAALAND)
    a = add_candidate(db, url, HAALAND)
    b = add_candidate(db, url, "1900000000000077999")  # a repost of the same media
    run(db, storage, settings)
    docs = {d["_id"]: d for d in db[VIDEOS].find()}
    assert docs[a]["state"] == docs[b]["state"] == "stored"
    assert docs[a]["storage"]["key"] == docs[b]["storage"]["key"]
    assert [o.key for o in storage.list()] == [docs[a]["storage"]["key"]]


# ---- failure classes -------------------------------------------------------------------------

FAILURES = {
    # kind: (tweet id or URL builder, fault, settings changes, expected error type)
    "not_found": ("1900000000000000404", None, {}, "ClipNotFoundError"),
    "geo_blocked": (HAALAND, {"kind": "403", "count": 20}, {}, "ClipForbiddenError"),
    "timeout": (HAALAND, {"kind": "timeout", "seconds": 3, "count": 20},
                {"socket_timeout": 1, "max_attempts": 1}, "DownloadTimeoutError"),
    "oversize": (HAALAND, {"kind": "media_oversize", "count": 20}, {}, "ClipTooLargeError"),
    "too_large_received": (HAALAND, None, {"max_bytes": 500_000}, "ClipTooLargeError"),
    "corrupt": (HAALAND, {"kind": "media_corrupt", "count": 20}, {}, "CorruptClipError"),
    "portrait": (PORTRAIT, None, {}, "GateRejectedError"),
    "not_allow_listed": ("localhost", None, {}, "UrlRejectedError"),
    "private_address": (HAALAND, None, {}, "UrlRejectedError"),
}  # fmt: skip


@pytest.mark.parametrize("kind", sorted(FAILURES))
def test_each_failure_ends_in_its_class_leaving_nothing(
    db, standin, s3_storage, settings, kind, monkeypatch
):
    tweet, fault, changes, expected = FAILURES[kind]
    settings = replace(settings, **changes)
    if tweet == "localhost":
        url = media_url(standin, HAALAND).replace("127.0.0.1", "localhost")
    else:
        url = media_url(standin, tweet)
    if kind == "private_address":
        monkeypatch.delenv("FOOTY_DOWNLOAD_ALLOW_PRIVATE")
    if fault:
        fault = dict(fault)
        standin.world.add_fault(f"/media/{HAALAND}.mp4", fault.pop("kind"), **fault)
    add_goal(db)
    video_id = add_candidate(db, url, tweet if tweet.isdigit() else HAALAND)

    summary = run(db, s3_storage, settings)

    video = db[VIDEOS].find_one({"_id": video_id})
    assert video["state"] == "failed", video.get("download")
    assert video["download"]["error"]["type"] == expected
    assert video["download"]["error"]["message"]
    assert video["download"]["attempts"] == 1 and "next_attempt_at" not in video["download"]
    if kind == "portrait":
        assert "portrait" in video["download"]["reject_reasons"]
    assert summary["failed"] == [video_id] and summary["finished"] is True  # goal not failed
    assert db[GOALS].find_one({"_id": GOAL})["processing_status"]["last_error"] is None
    assert_nothing_left(s3_storage, settings)


def test_local_storage_keeps_nothing_of_a_rejected_clip(db, standin, tmp_path, settings):
    local = LocalClipStorage(tmp_path / "store")
    add_goal(db)
    add_candidate(db, media_url(standin, PORTRAIT), PORTRAIT)
    run(db, local, settings)
    assert_nothing_left(local, settings)


def test_transient_failure_is_retried_later_then_gives_up(db, standin, storage, settings):
    settings = replace(settings, socket_timeout=1, max_attempts=2,
                       retry_base=timedelta(minutes=1))  # fmt: skip
    standin.world.add_fault(f"/media/{HAALAND}.mp4", "timeout", count=50, seconds=3)
    add_goal(db)
    video_id = add_candidate(db, media_url(standin, HAALAND), HAALAND)
    start = datetime.now(UTC)

    first = run(db, storage, settings, now=start)
    video = db[VIDEOS].find_one({"_id": video_id})
    assert first["retry"] == [video_id] and video["state"] == "candidate"
    assert video["download"]["error"]["type"] == "DownloadTimeoutError"
    assert video["download"]["transient"] is True
    # backed off from when the attempt failed (after its 1 s timeouts), not from the start
    retry_at, failed_at = video["download"]["next_attempt_at"], video["download"]["error"]["at"]
    assert failed_at > start + timedelta(seconds=1)
    assert retry_at == pytest.approx(failed_at + timedelta(minutes=1), abs=timedelta(seconds=1))
    assert first["finished"] is False  # a candidate is pending
    assert db[GOALS].find_one({"_id": GOAL})["processing_status"]["videos_downloaded"] is False
    assert select_goals(db, start + timedelta(seconds=30)) == []  # not due yet

    assert select_goals(db, start + timedelta(minutes=2)) == [GOAL]
    second = run(db, storage, settings, now=start + timedelta(minutes=2))
    video = db[VIDEOS].find_one({"_id": video_id})
    assert second["failed"] == [video_id] and video["download"]["attempts"] == 2
    assert video["state"] == "failed" and second["finished"] is True
    assert_nothing_left(storage, settings)

    # force: failed clips are tried again (the fault is gone now)
    standin.world.clear_faults()
    forced = run(db, storage, replace(settings, socket_timeout=5), force=True)
    assert forced["reset"] == 1 and forced["stored"] == [video_id]
    assert db[VIDEOS].find_one({"_id": video_id})["state"] == "stored"


def test_clips_arriving_during_the_search_are_downloaded_as_they_come(
    db, standin, tmp_path, settings
):
    local = LocalClipStorage(tmp_path / "store")
    add_goal(db, scraped=False)
    first = add_candidate(db, media_url(standin, HAALAND), HAALAND)
    assert select_goals(db, datetime.now(UTC)) == [GOAL]
    summary = run(db, local, settings)
    assert summary["stored"] == [first] and summary["finished"] is False
    status = db[GOALS].find_one({"_id": GOAL})["processing_status"]
    assert status["videos_downloaded"] is False
    assert select_goals(db, datetime.now(UTC)) == []  # nothing due, search still running

    late = add_candidate(db, f"{media_url(standin, HAALAND_CROP)}?bitrate=900000", HAALAND_CROP)
    db[GOALS].update_one({"_id": GOAL}, {"$set": {"processing_status.twitter_scraped": True}})
    summary = run(db, local, settings)
    assert summary["stored"] == [late] and summary["finished"] is True
    assert db[GOALS].find_one({"_id": GOAL})["processing_status"]["videos_downloaded"] is True


def test_a_searched_goal_without_candidates_is_finished(db, settings, tmp_path):
    add_goal(db)
    assert select_goals(db, datetime.now(UTC)) == [GOAL]
    summary = run(db, LocalClipStorage(tmp_path / "store"), settings)
    assert summary["finished"] is True
    assert select_goals(db, datetime.now(UTC)) == []


def test_a_goal_another_run_is_downloading_is_not_selected(db, standin, settings):
    add_goal(db)
    add_candidate(db, media_url(standin, HAALAND), HAALAND)
    now = datetime.now(UTC)
    other = claim_goal(db, Stage.DOWNLOAD, GOAL, "other-run", timedelta(minutes=5), now=now)
    assert select_goals(db, now) == []
    assert select_goals(db, now, [GOAL]) == [GOAL], "a goal named by hand is still visited"
    release(db, other)
    assert select_goals(db, now) == [GOAL]


def test_withdrawn_goal_candidates_are_held_not_downloaded(db, standin, settings):
    add_goal(db)
    video_id = add_candidate(db, media_url(standin, HAALAND), HAALAND)
    db[GOALS].update_one({"_id": GOAL}, {"$set": {"status": "withdrawn"}})
    now = datetime.now(UTC)
    assert select_goals(db, now) == []
    video = db[VIDEOS].find_one({"_id": video_id})
    assert video["state"] == "candidate" and video["download"]["next_attempt_at"] > now


def test_a_clip_claimed_by_another_worker_is_left_to_it(db, standin, tmp_path, settings):
    local = LocalClipStorage(tmp_path / "store")
    add_goal(db)
    video_id = add_candidate(db, media_url(standin, HAALAND), HAALAND)
    other = claim_clip(db, video_id, "other-worker", timedelta(minutes=5))
    assert other is not None
    summary = run(db, local, settings)
    assert summary["stored"] == [] and summary["finished"] is False
    assert db[VIDEOS].find_one({"_id": video_id})["state"] == "candidate"
    assert local.list() == []


# ---- a worker killed mid-download ------------------------------------------------------------

WORKER = """
import sys
from datetime import timedelta
from pathlib import Path
from footy.pipeline.download import DownloadSettings, download_goal
from footy.storage import LocalClipStorage
from footy.store import connect
uri, name, goal, store, work = sys.argv[1:6]
settings = DownloadSettings(work_dir=Path(work), clip_lease=timedelta(seconds=6),
                            goal_lease=timedelta(seconds=6), socket_timeout=30, retries=0)
download_goal(connect(uri, name), goal, LocalClipStorage(store), owner="doomed",
              settings=settings)
"""


def test_a_killed_worker_s_clip_is_downloaded_later_once(
    db, db_name, mongo_uri, standin, tmp_path, settings
):
    local = LocalClipStorage(tmp_path / "store")
    add_goal(db)
    video_id = add_candidate(db, media_url(standin, HAALAND), HAALAND)
    # The probe and the download both stream at 64 KiB/s: ~45 s for the 3 MB clip.
    standin.world.add_fault(f"/media/{HAALAND}.mp4", "media_slow", count=2, rate=65536)
    env = {**os.environ, "PYTHONPATH": str(ROOT / "include")}
    log_start = len(standin.world.requests)
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, mongo_uri, db_name, GOAL, str(local.root),
         str(settings.work_dir)], env=env,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        partial: list[Path] = []
        while time.monotonic() < deadline and not partial:
            time.sleep(0.2)
            if settings.work_dir.exists():
                partial = [p for p in settings.work_dir.rglob("*.part") if p.stat().st_size]
        assert partial, "the worker never started streaming the clip"
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)

    claim = db[CLAIMS].find_one({"stage": "download-clip", "goal_id": video_id})
    assert claim["owner"] == "doomed" and claim["released"] is False
    assert db[VIDEOS].find_one({"_id": video_id})["state"] == "candidate"
    assert local.list() == [] and partial[0].exists()  # the dead worker's partial file

    # While its lease runs, another run leaves the clip alone.
    early = run(db, local, settings)
    assert early["skipped"] == "another run holds this goal" or early["stored"] == []
    assert db[VIDEOS].find_one({"_id": video_id})["state"] == "candidate"

    expires = claim["expires_at"].replace(tzinfo=UTC)
    time.sleep(max(0.0, (expires - datetime.now(UTC)).total_seconds()) + 0.5)
    later = run(db, local, settings)
    assert later["stored"] == [video_id]
    video = db[VIDEOS].find_one({"_id": video_id})
    assert video["state"] == "stored" and video["download"]["attempts"] == 2
    assert [o.key for o in local.list()] == [video["storage"]["key"]]
    assert list(settings.work_dir.iterdir()) == []  # the dead worker's folder was swept
    # (a handler of an earlier test's "timeout" fault may still log meanwhile: not counted)
    gets = [str(r["fault"]) for r in standin.world.requests[log_start:]
            if r["path"] == f"/media/{HAALAND}.mp4" and r["fault"] in (None, "media_slow")]
    # the dead worker's probe and cut-off download, then one probe and one download
    assert sorted(gets) == ["None", "None", "media_slow", "media_slow"]

    assert run(db, local, settings)["stored"] == []
    assert len(local.list()) == 1
