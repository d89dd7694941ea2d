"""filter_videos run with ``dag.test()`` against FerretDB and a local-folder clip store
holding real rendered clips: one named task instance per goal, withdrawn goals cleaned up,
goals without clips completed, and a re-run (scheduled or manual) changes nothing."""

from __future__ import annotations

import hashlib
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from footy.storage import LocalClipStorage, clip_key
from footy.store import CLAIMS, GOALS, VIDEOS, new_processing_status
from footy_airflow.ui.links import GoalPageLink, goal_page_path
from footy_testbed import clipgen

pytestmark = pytest.mark.integration

NOW = datetime(2026, 3, 14, 16, 0, tzinfo=UTC)
FIXTURE = 2001
SPECS = {
    "broadcast": clipgen.ClipSpec(0, start=2.0, duration=8.0),
    "ld": clipgen.ClipSpec(0, start=3.0, duration=6.0, bitrate_kbps=600, width=640, height=360),
    "angle": clipgen.ClipSpec(0, angle=1, start=7.0, duration=6.0),
}
KEEP, WITHDRAWN, EMPTY = "2001_50_1100_normal_1", "2001_50_631_normal_1", "2001_42_567_own_1"
LABELS = {  # goal -> the name of its task instance
    KEEP: "E. Haaland 11' Manchester City v Arsenal",
    WITHDRAWN: "P. Foden 30' Manchester City v Arsenal",
    EMPTY: "W. Saliba 60' Manchester City v Arsenal",
}


@pytest.fixture(scope="module")
def clips(tmp_path_factory) -> dict[str, Path]:
    cache = Path(os.environ.get("FOOTY_CLIP_CACHE") or tmp_path_factory.mktemp("clips"))
    return {name: clipgen.render_cached(spec, cache) for name, spec in SPECS.items()}


@pytest.fixture
def storage(tmp_path, monkeypatch) -> LocalClipStorage:
    root = tmp_path / "store"
    monkeypatch.setenv("FOOTY_STORAGE_URL", root.as_uri())
    return LocalClipStorage(root)


def _goal(db, goal_id: str, status: str, label: str | None = None) -> None:
    ps = new_processing_status(NOW)
    ps.update(twitter_scraped=True, videos_downloaded=True)
    db[GOALS].insert_one({"_id": goal_id, "status": status, "fixture_id": FIXTURE,
                          "label": label or LABELS[goal_id], "processing_status": ps})


def _clip(db, storage, goal_id: str, name: str, path: Path, state: str = "stored") -> None:
    data = path.read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    key = clip_key(FIXTURE, goal_id, sha)
    obj = storage.put(path, key, {"goal_id": goal_id}, len(data))
    db[VIDEOS].insert_one({
        "_id": f"{goal_id}:x:{name}", "goal_id": goal_id, "source": "x", "source_id": name,
        "state": state, "sha256": sha, "storage": {"key": key, "url": obj.url, "size": obj.size},
    })  # fmt: skip


def _snapshot(db, storage) -> dict:
    out = {c: sorted(db[c].find({}), key=lambda d: str(d["_id"])) for c in (GOALS, VIDEOS, CLAIMS)}
    out["objects"] = [(o.key, o.size) for o in storage.list()]
    return out


def test_filter_videos_dag(dags, db, storage, clips, short_sensor_timeouts):
    dag = dags["filter_videos"]
    short_sensor_timeouts(dag)
    _goal(db, KEEP, "confirmed")
    for name in ("broadcast", "ld", "angle"):
        _clip(db, storage, KEEP, name, clips[name])
    _goal(db, WITHDRAWN, "withdrawn")  # withdrawn after one clip was kept, one still stored
    _clip(db, storage, WITHDRAWN, "broadcast", clips["broadcast"], state="kept")
    _clip(db, storage, WITHDRAWN, "ld", clips["ld"])
    _goal(db, EMPTY, "confirmed")  # downloads ended with nothing stored

    run = dag.test()

    tis = {ti.task_id: ti for ti in run.get_task_instances() if ti.map_index < 0}
    mapped = {ti.rendered_map_index: ti.state for ti in run.get_task_instances()
              if ti.task_id == "filter_goal"}  # fmt: skip
    assert mapped == {label: "success" for label in LABELS.values()}
    # Each finished instance's "Goal page" link finds its goal in the instance's summary.
    assert _goal_links(run) == {label: goal_page_path(g) for g, label in LABELS.items()}
    assert tis["announce_kept_clips"].state == "success"
    states = {d["_id"]: (d["state"], d.get("duplicate_of")) for d in db[VIDEOS].find()}
    assert states == {
        f"{KEEP}:x:broadcast": ("kept", None),
        f"{KEEP}:x:ld": ("duplicate", f"{KEEP}:x:broadcast"),
        f"{KEEP}:x:angle": ("kept", None),
        f"{WITHDRAWN}:x:broadcast": ("removed", None),
        f"{WITHDRAWN}:x:ld": ("removed", None),
    }
    assert len(storage.list()) == 2  # the two keepers
    for goal_id in (KEEP, EMPTY):
        status = db[GOALS].find_one({"_id": goal_id})["processing_status"]
        assert status["videos_filtered"] is True and status["completed"] is True, goal_id

    # No clip waiting (the sensor times out): a goal whose downloads ended with nothing
    # stored is still completed.
    late = "2001_42_g-martinelli_normal_1"
    _goal(db, late, "confirmed", label="G. Martinelli 80' Manchester City v Arsenal")
    quiet = dag.test()
    states = {ti.task_id: ti.state for ti in quiet.get_task_instances() if ti.map_index < 0}
    assert states["collect_goals"] == "success"  # waited, timed out, chose the goal anyway
    assert db[GOALS].find_one({"_id": late})["processing_status"]["completed"] is True

    before = _snapshot(db, storage)
    rerun = dag.test()
    assert {ti.task_id: ti.state for ti in rerun.get_task_instances()}["collect_goals"] == "skipped"
    manual = dag.test(run_conf={"goal_ids": [KEEP, WITHDRAWN]})
    # A goal with nothing to filter ends skipped (named), not success: the grid tells the truth.
    assert {ti.rendered_map_index: ti.state for ti in manual.get_task_instances()
            if ti.task_id == "filter_goal"} == {LABELS[KEEP]: "skipped",
                                                LABELS[WITHDRAWN]: "skipped"}  # fmt: skip
    # A skipped instance has no summary: it recorded its goal on the way out.
    assert _goal_links(manual) == {LABELS[g]: goal_page_path(g) for g in (KEEP, WITHDRAWN)}
    assert _snapshot(db, storage) == before


def _goal_links(run) -> dict[str, str]:
    """Each filter_goal instance's "Goal page" link, as the API server computes it."""
    return {ti.rendered_map_index: GoalPageLink().get_link(None, ti_key=ti.key)
            for ti in run.get_task_instances() if ti.task_id == "filter_goal"}


def test_bad_manual_conf_is_refused(dags):
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        dags["filter_videos"].test(run_conf={"goal_ids": "2001_50_1100_normal_1"})
