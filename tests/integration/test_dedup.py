"""Near-duplicate removal end to end on the synthetic labeled set (ffmpeg + OpenCV)."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np
import pytest

from footy.dedup import CorruptClipError, Fingerprint, assign, cluster, fingerprint, match, probe
from footy.dedup.quality import Quality, rank
from footy_testbed import clipgen

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def labeled(tmp_path_factory) -> list[clipgen.LabeledClip]:
    # two scenes: every family and decision, and the other scene as hard negatives (a third
    # scene repeats them at twice the verification time)
    return clipgen.labeled_set(tmp_path_factory.mktemp("labeled"), scenes=2)


@pytest.fixture(scope="session")
def prints(labeled) -> dict[int, Fingerprint]:
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        fps = list(pool.map(lambda c: fingerprint(c.path), labeled))
    return dict(enumerate(fps))


@pytest.fixture(scope="session")
def clusters(prints):
    return cluster(prints)


def spec_quality(spec: clipgen.ClipSpec) -> Quality:
    """Ground-truth quality from the spec (not from the file)."""
    fw, fh = spec.frame_size
    bpp = spec.bitrate_kbps * 1000 / (fw * fh * spec.fps)
    return Quality(spec.width, spec.height, bpp, spec.fps, spec.duration)


def test_precision_and_recall_over_duplicate_pairs(labeled, clusters):
    where = {k: n for n, c in enumerate(clusters) for k in c.members}
    assert sorted(where) == list(range(len(labeled)))  # every clip in exactly one cluster
    assert sum(len(c.members) for c in clusters) == len(labeled)
    tp = fp = fn = 0
    wrong = []
    for i, j in itertools.combinations(range(len(labeled)), 2):
        same = where[i] == where[j]
        dup = clipgen.is_true_duplicate(labeled[i].spec, labeled[j].spec)
        tp += same and dup
        fp += same and not dup
        fn += dup and not same
        if same and not dup:
            wrong.append((labeled[i].spec, labeled[j].spec))
    precision = tp / max(1, tp + fp)
    recall = tp / max(1, tp + fn)
    assert precision == 1.0, wrong[:3]
    assert recall >= 0.95, f"recall {recall:.3f} ({fn} duplicate pairs missed)"


def test_keeper_is_the_best_copy(labeled, clusters):
    for c in clusters:
        truth = rank({k: spec_quality(labeled[k].spec) for k in c.members})
        assert c.keeper == truth[0], (labeled[c.keeper].spec, labeled[truth[0]].spec, c.why)
        assert c.why


def test_no_false_match_for_mirror_other_angle_other_goal(labeled, prints):
    base = next(k for k, c in enumerate(labeled) if c.spec == clipgen.ClipSpec(0, 0, 2.0, 8.0))
    for k, c in enumerate(labeled):
        if k == base or clipgen.is_true_duplicate(c.spec, labeled[base].spec):
            continue
        r = match(prints[base], prints[k])
        assert not r.matched, (c.spec, r.why())


def test_match_explains_offset(labeled, prints):
    a = next(k for k, c in enumerate(labeled) if c.spec == clipgen.ClipSpec(0, 0, 2.0, 8.0))
    b = next(k for k, c in enumerate(labeled) if c.spec == clipgen.ClipSpec(0, 0, 4.0, 5.0))
    r = match(prints[a], prints[b])
    assert r.matched and abs(r.offset - 2.0) <= 0.2, r.why()
    assert r.overlap >= 30 and r.verification is not None and r.verification.same
    assert "match at offset" in r.why() and "frames agree" in r.why()


def test_letterbox_is_stripped(labeled, prints):
    k = next(k for k, c in enumerate(labeled) if c.spec.letterbox and c.spec.width == 854)
    fp = prints[k]
    assert (fp.width, fp.height) == (854, 640)
    assert fp.eff_width == 854 and abs(fp.eff_height - 480) <= 8, (fp.eff_height, fp.bars)


def test_chain_merge_guard_with_constructed_fingerprints():
    rng = np.random.default_rng(7)
    hashes = rng.integers(0, 2**63, size=120, dtype=np.uint64)
    # one "footage" of 120 samples: smooth random pictures, each unlike the next
    noise = rng.normal(128, 60, size=(120, 72, 128)).astype(np.float32)
    frames = np.stack([np.clip(cv2.GaussianBlur(f, (0, 0), 2.0), 0, 255) for f in noise])
    frames = frames.astype(np.uint8)

    def fp(lo: int, hi: int, width: int = 1280) -> Fingerprint:
        n = hi - lo
        return Fingerprint(
            hashes=hashes[lo:hi], times=np.arange(n, dtype=np.float32) / 10, width=width,
            height=720, eff_width=width, eff_height=720, fps=30.0, frame_count=3 * n,
            duration=n / 10, file_size=10**6, bits_per_pixel=0.1, frames=frames[lo:hi],
        )  # fmt: skip

    a, b, c = fp(0, 60), fp(30, 90), fp(60, 120)
    assert match(a, b).matched and match(b, c).matched and not match(a, c).matched
    clusters = cluster({"A": a, "B": b, "C": c})
    assert len(clusters) == 2
    for cl in clusters:
        assert not {"A", "C"} <= set(cl.members)
    # incremental: B matches both keepers but must not merge them
    decisions = assign({"B": b}, {"A": a, "C": c})
    assert [(d.key, d.action) for d in decisions] == [("B", "duplicate")]
    assert decisions[0].duplicate_of in {"A", "C"}
    # a better copy of A replaces it; A becomes its duplicate
    decisions = {d.key: d for d in assign({"A2": fp(5, 55, 1920)}, {"A": a, "C": c})}
    assert decisions["A2"].action == "replace" and decisions["A2"].replaces == "A"
    assert decisions["A"].action == "duplicate" and decisions["A"].duplicate_of == "A2"
    assert "C" not in decisions


def test_assign_incremental_on_real_clips(labeled, prints):
    pick = {
        (0, 0, 640): None,  # 360p broadcast copy (kept first)
        (0, 0, 1920): None,  # the 1080p copy arrives later
        (0, 0, 854): None,
        (0, 1, 1280): None,  # another camera
        (1, 0, 1280): None,  # another goal
    }
    for k, c in enumerate(labeled):
        key = (c.spec.scene, c.spec.angle, c.spec.width)
        if key in pick and pick[key] is None and not c.spec.mirror:
            pick[key] = k
    low, hd, sd, cam, other = pick.values()
    decisions = {d.key: d for d in assign({hd: prints[hd], sd: prints[sd], cam: prints[cam],
                                           other: prints[other]}, {low: prints[low]})}  # fmt: skip
    assert decisions[hd].action == "replace" and decisions[hd].replaces == low
    assert decisions[low].duplicate_of == hd
    assert decisions[sd].action == "duplicate" and decisions[sd].duplicate_of == hd
    assert decisions[cam].action == "keep" and decisions[other].action == "keep"


def test_fingerprint_bytes_round_trip(prints):
    fp = prints[0]
    data = fp.to_bytes()
    assert isinstance(data, bytes) and len(data) == 88 + 12 * len(fp)
    back = Fingerprint.from_bytes(data)
    assert np.array_equal(back.hashes, fp.hashes) and back.hashes.dtype == np.uint64
    assert np.array_equal(back.times, fp.times)
    for f in ("width", "height", "eff_width", "eff_height", "fps", "frame_count", "duration",
              "file_size", "bits_per_pixel", "bars", "step"):  # fmt: skip
        assert getattr(back, f) == getattr(fp, f), f
    with pytest.raises(ValueError):
        Fingerprint.from_bytes(data[:-3])


def test_probe_and_metadata(labeled, prints):
    k = next(k for k, c in enumerate(labeled) if c.spec.fps == 50.0)
    info = probe(labeled[k].path)
    assert (info.width, info.height, round(info.fps)) == (1280, 720, 50)
    assert abs(info.duration - 5.0) < 0.1 and info.frame_count == 250
    fp = prints[k]
    assert fp.frame_count == 250 and abs(fp.duration - 5.0) < 0.05
    assert 48 <= len(fp) <= 51  # ~10 samples a second, by timestamp


def test_corrupt_file_is_typed(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypmp42" + os.urandom(2000))
    with pytest.raises(CorruptClipError):
        fingerprint(bad)
    with pytest.raises(CorruptClipError):
        probe(tmp_path / "missing.mp4")


def _cli(*args: str) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT / "include"), str(ROOT / "plugins")]),
    }
    return subprocess.run(
        [sys.executable, "-m", "footy", "dedup", *args],
        capture_output=True, text=True, env=env, timeout=120,
    )  # fmt: skip


def test_cli_json_contract(labeled, tmp_path):
    chosen = [c for c in labeled if c.spec.scene == 1][:4]
    chosen += [c for c in labeled if c.spec.scene == 1 and (c.spec.mirror or c.spec.angle)]
    paths = [str(c.path) for c in chosen]
    bad = tmp_path / "broken.mp4"
    bad.write_bytes(b"not a video at all")
    proc = _cli(*paths, str(bad), "--json")
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    seen = [m for c in doc["clusters"] for m in c["members"]]
    assert sorted(seen) == sorted(paths)  # every readable input exactly once
    for c in doc["clusters"]:
        assert c["keeper"] in c["members"] and isinstance(c["why"], str) and c["why"]
    by_label = {}
    for c in chosen:
        by_label.setdefault(c.label, set()).add(str(c.path))
    assert sorted(map(sorted, by_label.values())) == sorted(
        sorted(c["members"]) for c in doc["clusters"]
    )
    assert [e["path"] for e in doc["errors"]] == [str(bad)]
    assert doc["errors"][0]["type"] == "CorruptClipError"
    assert "broken.mp4" in proc.stderr

    table = _cli(*paths[:2])
    assert table.returncode == 0 and "keeper" in table.stdout

    allbad = _cli(str(bad), str(tmp_path / "missing.mp4"), "--json")
    assert allbad.returncode != 0
    assert len(json.loads(allbad.stdout)["errors"]) == 2
