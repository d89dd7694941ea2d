"""Do two fingerprints show the same footage? Propose time offsets, then verify on frames.

1. Offsets are proposed by the clips' motion signatures (how the centre of the picture
   changes over 0.8 s: sharp in time, and indifferent to crops, bars and overlays), plus the
   best offset of the dHash aligned-run comparison (:func:`match_hashes`).
2. Each proposed offset is verified on the frames (:mod:`footy.dedup.verify`): registration,
   one transform over time, the same speed, no moving differences. The first offset that
   verifies is the match.

The dHash alone cannot be trusted with a match: it is blind to crops beyond a few per cent
and to what tells two goals of one broadcast apart, so it only proposes. A false merge hides
a clip for good, an extra duplicate costs a viewer a second look: every rule errs towards
keeping clips apart.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, replace

import numpy as np

from footy.dedup import verify as frames_check
from footy.dedup.fingerprint import Fingerprint, FingerprintMethodError


class FramesNeededError(ValueError):
    """A fingerprint read back from storage has no frames: fingerprint the clip again."""


@dataclass(frozen=True)
class Rule:
    window: int  # consecutive aligned samples
    needed: int  # of which at least this many...
    max_distance: int  # ...are within this Hamming distance

    def __str__(self) -> str:
        return f"{self.needed}/{self.window}@<={self.max_distance}"


# Tuned on clipgen.labeled_set (3 goals x 18 clips, 1431 pairs): for 30-sample windows at
# distance <= 14 every true duplicate pair reaches >= 28 agreeing while the closest different
# footage (another goal of the same broadcast style) reaches 19, mirrored footage 5, another
# camera 4. 27 sits next to the duplicates' edge: an extra duplicate beats a wrong merge.
DEFAULT_RULES: tuple[Rule, ...] = (Rule(30, 27, 14), Rule(50, 45, 16))


@dataclass(frozen=True)
class MatchResult:
    matched: bool
    offset: float  # seconds: footage at time t in ``a`` is at time t - offset in ``b``
    agreeing: int  # aligned samples within the rule's distance along that offset
    run: int  # samples from the first to the last qualifying window at that offset
    mean_distance: float  # mean Hamming distance over that run (or the best window)
    best_window: int  # most agreeing samples in one window at the best offset
    rule: str  # the rule that matched, or the strictest rule when none did
    overlap: int = 0  # aligned samples at the best offset
    verification: frames_check.Verification | None = None

    def why(self) -> str:
        v = self.verification
        if v is not None:
            verdict = "match" if self.matched else "no match"
            return f"{verdict} at offset {self.offset:+.1f}s: {v.why()}"
        if self.matched:
            return (
                f"match at offset {self.offset:+.1f}s: {self.best_window} agreeing in a window "
                f"({self.rule}), run of {self.run} samples, {self.agreeing} agreeing, "
                f"mean distance {self.mean_distance:.1f}"
            )
        return (
            f"no match: best {self.best_window} agreeing ({self.rule}) at offset "
            f"{self.offset:+.1f}s, mean distance {self.mean_distance:.1f}"
        )


def hamming_matrix(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) uint8 matrix of Hamming distances between 64-bit hashes."""
    x = np.asarray(a, dtype=np.uint64)[:, None] ^ np.asarray(b, dtype=np.uint64)[None, :]
    return np.bitwise_count(x).astype(np.uint8)


def _sheared(dist: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows = offsets k (i - j = k), cols = j. Returns (dist by offset, valid mask, ks)."""
    n, m = dist.shape
    ks = np.arange(-(m - 1), n)
    i = np.arange(m)[None, :] + ks[:, None]
    valid = (i >= 0) & (i < n)
    d = dist[np.clip(i, 0, n - 1), np.arange(m)[None, :]]
    return np.where(valid, d, 255).astype(np.uint8), valid, ks


def match(a: Fingerprint, b: Fingerprint, rules: tuple[Rule, ...] = DEFAULT_RULES) -> MatchResult:
    """Compare two fingerprints; see the module docstring. Fingerprints made by different
    methods are refused (:class:`FingerprintMethodError`), and so are fingerprints without
    frames (:class:`FramesNeededError`): both mean fingerprinting the clip again."""
    if a.method != b.method:
        raise FingerprintMethodError(
            f"fingerprints of methods {a.method} and {b.method} cannot be compared"
        )
    if a.frames is None or b.frames is None:
        raise FramesNeededError("verifying a match needs the frames of both clips")
    coarse = match_hashes(a.hashes, b.hashes, rules, step=a.step)
    view_a, view_b = _view(a), _view(b)
    proposals = frames_check.candidate_offsets(view_a.motion, view_b.motion)
    hash_offset = int(round(coarse.offset / a.step))
    if all(abs(hash_offset - k) > 2 for k in proposals):
        proposals.append(hash_offset)
    tried: list[frames_check.Verification] = []
    for k in proposals:
        v = frames_check.verify(view_a, view_b, k)
        tried.append(v)
        if v.same:
            break
    if not tried:  # too short to propose anything
        return replace(coarse, matched=False)
    best = next((v for v in tried if v.same), None) or min(tried, key=_closeness)
    overlap = min(len(a), len(b) + best.offset) - max(0, best.offset)
    return MatchResult(
        matched=best.same,
        offset=round(best.offset * a.step, 3),
        agreeing=coarse.agreeing,
        run=max(0, overlap),
        mean_distance=round(best.moving * 100, 3),  # % of the picture that differs and moves
        best_window=coarse.best_window,
        rule="verified on frames",
        overlap=max(0, overlap),
        verification=best,
    )


_VIEWS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _view(fp: Fingerprint) -> frames_check.ClipView:
    """The fingerprint's frames prepared for verification, once per object (a clip is
    compared with many others)."""
    view = _VIEWS.get(fp)
    if view is None:
        view = _VIEWS[fp] = frames_check.ClipView.of(fp.frames)
    return view


def _closeness(v: frames_check.Verification) -> tuple[bool, int, float]:
    """Order failed verifications for the explanation: another speed says most (it is a
    decision, not a near miss), then how far each got."""
    return (v.time_drift == 0, -v.pairs, v.moving)


def match_hashes(
    a: np.ndarray, b: np.ndarray, rules: tuple[Rule, ...] = DEFAULT_RULES, *, step: float = 0.1
) -> MatchResult:
    strict = rules[0]
    if len(a) == 0 or len(b) == 0:
        return MatchResult(False, 0.0, 0, 0, 64.0, 0, str(strict))
    dist, valid, ks = _sheared(hamming_matrix(a, b))
    overlap = valid.sum(axis=1)
    hits: list[tuple] = []  # (run, -mean, -rule index, row, lo, hi, best window, rule)
    misses: list[tuple] = []
    for r_idx, rule in enumerate(rules):
        w = rule.window
        if dist.shape[1] < w or overlap.max() < w:
            continue
        good = (dist <= rule.max_distance).astype(np.int32)
        cs = np.concatenate([np.zeros((len(ks), 1), np.int32), np.cumsum(good, axis=1)], axis=1)
        win = cs[:, w:] - cs[:, :-w]  # (offsets, m - w + 1) agreeing samples per window
        row_best = win.max(axis=1)
        row_best[overlap < w] = 0
        for row in np.flatnonzero(row_best >= rule.needed):
            starts = np.flatnonzero(win[row] >= rule.needed)
            lo, hi = int(starts[0]), int(starts[-1]) + w
            seg = dist[row, lo:hi]
            mean = float(seg[seg < 255].mean())
            hits.append((hi - lo, -mean, -r_idx, int(row), lo, hi, int(row_best[row]), rule))
        row = int(np.argmax(row_best))
        lo = int(np.argmax(win[row]))
        seg = dist[row, lo : lo + w]
        seg = seg[seg < 255]
        mean = float(seg.mean()) if seg.size else 64.0
        misses.append((0, -mean, -r_idx, row, lo, lo + w, int(row_best[row]), rule))
    if hits:
        run, neg_mean, _, row, lo, hi, best_window, rule = max(hits, key=lambda h: h[:3])
    elif misses:
        run, neg_mean, _, row, lo, hi, best_window, rule = misses[0]
    else:  # too short for every rule
        return MatchResult(False, 0.0, 0, 0, 64.0, 0, str(strict))
    k = int(ks[row])
    agreeing = int(((dist[row] <= rule.max_distance) & valid[row]).sum())
    return MatchResult(
        matched=bool(hits),
        offset=round(k * step, 3),
        agreeing=agreeing,
        run=int(run),
        mean_distance=round(-neg_mean, 2),
        best_window=best_window,
        rule=str(rule),
        overlap=int(overlap[row]),
    )
