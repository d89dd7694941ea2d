"""Dedup benchmark: accuracy per transformation family on both re-upload splits, and the
fingerprint's speed and memory on one core.

    .venv/bin/python benchmarks/dedup_benchmark.py [--cache DIR] [--matches 3] [--seconds 60]

Accuracy: ``footy_testbed.reuploads`` renders each split's matches (tuning seeds, then the
held-out seeds; every parameter drawn from the seed). The clips of one match (two goals of one
stadium, each with re-uploads, a replay from another camera, a mirrored and a speed-changed
copy) are clustered together, so goals of one match are negatives for each other. Printed per
split: precision and recall over pairs of clips, recall per family (over the true duplicate
pairs in which either clip has that family), and keeper accuracy (no copy of a cluster is
clearly better than its keeper by the transformation's ground truth, see ``clearly_better``).
Report the held-out figures; never tune on them.

Speed: for a 720p30 H.264 clip, fingerprint speed as a multiple of real time on ONE core
(process pinned to one CPU, OpenCV/BLAS/OMP threads = 1), its ratio to the decode-only floor
(``grab()`` every frame, no ``retrieve()``), and peak memory of one fingerprint (ru_maxrss
delta and tracemalloc peak). Figures only; no assertions on timing.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import itertools  # noqa: E402
import json  # noqa: E402
import resource  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import tracemalloc  # noqa: E402
from collections import defaultdict  # noqa: E402
from concurrent.futures import ProcessPoolExecutor  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "include"))

import cv2  # noqa: E402

from footy.dedup import METHOD_VERSION, cluster, fingerprint  # noqa: E402
from footy.dedup.quality import Quality, rank  # noqa: E402
from footy_testbed import clipgen, reuploads  # noqa: E402


def _pin_one_core() -> None:
    cv2.setNumThreads(1)
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})


def _child_speed(path: str, repeats: int) -> None:
    """Runs in a fresh process: speed and memory figures as JSON on stdout."""
    _pin_one_core()
    base_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    fp = fingerprint(path)  # warm-up + memory
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_delta = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base_rss

    def timed(fn) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        return time.perf_counter() - wall, time.process_time() - cpu

    def decode(retrieve_every: bool) -> int:
        cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
        n = 0
        while cap.grab():
            n += 1
            if retrieve_every:
                cap.retrieve()
        cap.release()
        return n

    # Interleaved, so that on a shared machine each variant sees the same background load;
    # best of the repeats, as wall time and as this process's CPU time.
    runs: dict[str, list[tuple[float, float]]] = {"fp": [], "grab": [], "full": []}
    for _ in range(repeats):
        runs["fp"].append(timed(lambda: fingerprint(path)))
        runs["grab"].append(timed(lambda: decode(False)))
        runs["full"].append(timed(lambda: decode(True)))
    wall = {k: min(w for w, _ in v) for k, v in runs.items()}
    cpu = {k: min(c for _, c in v) for k, v in runs.items()}
    print(json.dumps({
        "duration": fp.duration, "samples": len(fp), "fingerprint_s": wall["fp"],
        "grab_only_s": wall["grab"], "grab_retrieve_all_s": wall["full"],
        "fingerprint_cpu_s": cpu["fp"], "grab_only_cpu_s": cpu["grab"],
        "rss_delta_kib": rss_delta, "tracemalloc_peak_bytes": peak,
    }))  # fmt: skip


def _cluster_match(paths: list[Path]) -> tuple[float, list[tuple[int, list[int]]]]:
    """Runs in a worker: seconds of video, and the clusters of one match's clips as
    (keeper, members) by position in ``paths``."""
    fps = {k: fingerprint(p) for k, p in enumerate(paths)}
    groups = cluster(fps)
    return sum(f.duration for f in fps.values()), [(g.keeper, list(g.members)) for g in groups]


def _measure_match(paths: list[Path]) -> list[Quality]:
    """Runs in a worker: the measured quality of each clip (one fingerprint pass each)."""
    out = []
    for p in paths:
        f = fingerprint(p)
        out.append(Quality(f.eff_width, f.eff_height, f.bits_per_pixel, f.fps, f.duration))
    return out


def keepers(split: str, cache: Path, matches: int, show: bool) -> None:
    """Keeper choice alone, on the true clusters of ``matches`` matches: the copies of one
    footage ranked by their measured quality, against the ground truth. Needs one fingerprint
    pass per clip and no matching, so it covers many more clusters than ``accuracy`` can
    cluster in the same time; ``accuracy`` measures it on the clusters actually found."""
    t = time.perf_counter()
    clips = reuploads.labeled_split(split, cache, matches=matches)
    seeds = reuploads.split_seeds(split)[:matches]
    print(f"\n== {split} split, keeper choice on the true clusters: {len(seeds)} matches "
          f"(seeds {seeds[0]}..{seeds[-1]}), {len(clips)} clips "
          f"({time.perf_counter() - t:.0f}s to render or reuse) ==")  # fmt: skip
    by_match: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(clips):
        by_match[c.match].append(i)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        measured = list(pool.map(_measure_match,
                                 [[clips[i].path for i in m] for m in by_match.values()]))
    quality = {i: q for m, qs in zip(by_match.values(), measured, strict=True)
               for i, q in zip(m, qs, strict=True)}  # fmt: skip
    clusters: dict[tuple[int, str], list[int]] = defaultdict(list)
    for i, c in enumerate(clips):
        clusters[(c.match, c.label)].append(i)
    total = fair = strict = 0
    for (_, label), members in sorted(clusters.items()):
        if len(members) < 2:
            continue
        truth = {k: clips[k].clip.truth_quality() for k in members}
        best = rank(truth)[0]
        keeper = rank({k: quality[k] for k in members})[0]
        total += 1
        strict += keeper == best
        ok = not clearly_better(truth[best], truth[keeper])
        fair += ok
        if show and not ok:
            print(f"  miss {label}: kept {clips[keeper].clip.note!r} "
                  f"measured {quality[keeper]} truth {truth[keeper]}; best "
                  f"{clips[best].clip.note!r} measured {quality[best]} truth {truth[best]}")
    print(f"keeper = best copy in {fair}/{total} true clusters = {fair / max(1, total):.3f} "
          f"(no copy clearly better); the ground truth's own first choice in {strict}/{total}")


def accuracy(split: str, cache: Path, matches: int) -> None:
    t = time.perf_counter()
    clips = reuploads.labeled_split(split, cache, matches=matches)
    seeds = reuploads.split_seeds(split)[:matches]
    print(f"\n== {split} split: seeds {seeds}, {len(clips)} clips "
          f"({time.perf_counter() - t:.0f}s to render or reuse) ==")  # fmt: skip
    by_match: dict[int, list[int]] = defaultdict(list)
    for i, c in enumerate(clips):
        by_match[c.match].append(i)
    t = time.perf_counter()
    # one match per process: fingerprint its clips, then cluster them (matches are independent)
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        paths = [[clips[i].path for i in m] for m in by_match.values()]
        done = list(pool.map(_cluster_match, paths))
    video = sum(d for d, _ in done)
    took = time.perf_counter() - t
    print(f"fingerprinted and clustered {video:.0f}s of video, {len(by_match)} matches, in "
          f"{took:.1f}s (dedup method {METHOD_VERSION})")  # fmt: skip
    tp = fp = fn = 0
    family: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    keepers_good = keepers_fair = keepers = 0
    wrong: list[str] = []
    for members, (_, local) in zip(by_match.values(), done, strict=True):
        # back from positions within the match to indexes of ``clips``
        groups = [(members[keeper], [members[k] for k in g]) for keeper, g in local]
        where = {k: n for n, (_, g) in enumerate(groups) for k in g}
        for i, j in itertools.combinations(members, 2):
            same = where[i] == where[j]
            dup = reuploads.is_true_duplicate(clips[i].clip, clips[j].clip)
            tp, fp, fn = tp + (same and dup), fp + (same and not dup), fn + (dup and not same)
            if same and not dup:
                wrong.append(f"{clips[i].label} {clips[i].clip.note!r} ~ "
                             f"{clips[j].label} {clips[j].clip.note!r}")  # fmt: skip
            if dup:
                for f in set(clips[i].clip.families) | set(clips[j].clip.families):
                    family[f][0] += same
                    family[f][1] += 1
        for keeper, g in groups:
            if len(g) > 1:
                quality = {k: clips[k].clip.truth_quality() for k in g}
                truth = rank(quality)
                keepers += 1
                keepers_good += truth[0] == keeper
                keepers_fair += not clearly_better(quality[truth[0]], quality[keeper])
    print(f"precision {tp / max(1, tp + fp):.3f}  recall {tp / max(1, tp + fn):.3f}  "
          f"({tp} duplicate pairs found, {fp} false, {fn} missed)")  # fmt: skip
    print(f"{'family':<10}{'pairs':>7}{'found':>7}{'recall':>8}")
    for f in (*reuploads.FAMILIES, *reuploads.DECISIONS):
        found, total = family.get(f, [0, 0])
        if total:
            print(f"{f:<10}{total:>7}{found:>7}{found / total:>8.3f}")
    print(f"keeper = best copy in {keepers_fair}/{keepers} clusters of 2 or more "
          f"= {keepers_fair / max(1, keepers):.3f} (no copy clearly better); the ground truth's "
          f"own first choice in {keepers_good}/{keepers}")  # fmt: skip
    for w in wrong[:5]:
        print(f"  false merge: {w}")


def clearly_better(best: Quality, keeper: Quality) -> bool:
    """Is the ground truth's best copy clearly better than the chosen keeper? The criteria of
    ``footy.dedup.quality`` in order, each by a margin (2 % more pixels, 5 % more bits per
    pixel, one frame per second, half a second), not by which side of a rounding step two
    near-equal values fall: the first criterion that differs by its margin decides."""
    margins = (
        (best.eff_width * best.eff_height, keeper.eff_width * keeper.eff_height, 1.02),
        (best.bits_per_pixel, keeper.bits_per_pixel, 1.05),
    )
    for b, k, ratio in margins:
        if b > k * ratio:
            return True
        if k > b * ratio:
            return False
    for b, k, margin in ((best.fps, keeper.fps, 1.0), (best.duration, keeper.duration, 0.5)):
        if b >= k + margin:
            return True
        if k >= b + margin:
            return False
    return False


def speed(cache: Path, seconds: float, repeats: int) -> None:
    spec = clipgen.ClipSpec(scene=0, start=0.0, duration=seconds)  # 720p30 2.5 Mb/s H.264
    t = time.perf_counter()
    path = clipgen.render_cached(spec, cache)
    print(f"speed clip: {seconds:.0f}s 720p30 H.264 {path} ({time.perf_counter() - t:.1f}s)")
    out = subprocess.run(
        [sys.executable, __file__, "--child-speed", str(path), "--repeats", str(repeats)],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    r = json.loads(out.strip().splitlines()[-1])
    d = r["duration"]
    print(f"one core: fingerprint {r['fingerprint_s']:.2f}s = {d / r['fingerprint_s']:.1f}x real "
          f"time ({r['samples']} samples)")  # fmt: skip
    print(f"          decode-only floor (grab every frame) {r['grab_only_s']:.2f}s = "
          f"{d / r['grab_only_s']:.1f}x real time")  # fmt: skip
    print(f"          grab+retrieve every frame {r['grab_retrieve_all_s']:.2f}s = "
          f"{d / r['grab_retrieve_all_s']:.1f}x real time")  # fmt: skip
    print(
        f"          fingerprint / decode-only floor = "
        f"{r['fingerprint_s'] / r['grab_only_s']:.2f}x  (targets: <= 1.5x, and >= 20x real time)"
    )
    print(
        f"          CPU time: fingerprint {r['fingerprint_cpu_s']:.2f}s / decode-only "
        f"{r['grab_only_cpu_s']:.2f}s = {r['fingerprint_cpu_s'] / r['grab_only_cpu_s']:.2f}x "
        f"(less sensitive to other load on a shared machine)"
    )
    print(
        f"memory per clip: ru_maxrss +{r['rss_delta_kib'] / 1024:.1f} MiB, "
        f"tracemalloc peak {r['tracemalloc_peak_bytes'] / 2**20:.2f} MiB"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cache", type=Path, default=Path("/tmp/footy-dedup-bench"))
    ap.add_argument("--matches", type=int, default=3, help="matches per split")
    ap.add_argument("--splits", default="tuning,heldout")
    ap.add_argument("--keeper-matches", type=int, default=0,
                    help="also score keeper choice alone on the true clusters of this many "
                         "matches per split (misses are printed for the tuning split only)")
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--child-speed", help=argparse.SUPPRESS)
    ap.add_argument("--skip-accuracy", action="store_true",
                    help="skip the clustering (keeper choice alone still runs)")
    ap.add_argument("--skip-speed", action="store_true")
    args = ap.parse_args()
    if args.child_speed:
        _child_speed(args.child_speed, args.repeats)
        return
    for split in args.splits.split(","):
        if not args.skip_accuracy:
            accuracy(split, args.cache / "reuploads", args.matches)
        if args.keeper_matches:
            keepers(split, args.cache / "reuploads", args.keeper_matches, split == "tuning")
    if not args.skip_speed:
        speed(args.cache, args.seconds, args.repeats)


if __name__ == "__main__":
    main()
