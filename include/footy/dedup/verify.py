"""Verify a candidate match on the frames themselves: register, then look for differences.

The dHash proposes time offsets; it is blind to what tells two goals of one broadcast apart
(players, ball, score bug) and loses footage that was cropped, zoomed or framed. For each
proposed offset this module takes a few aligned frame pairs spread over the overlap and:

1. registers the second clip's frame onto the first's in the middle of the overlap with an
   affine transform (OpenCV's ECC on blurred frames, started from a few zooms), and accepts
   only what a re-upload can do: zoom 0.65-1.55x, a modest change of aspect, no rotation or
   shear. The frame is registered onto every sample of the other clip near the proposed
   one and the best fit is its mate in time: a panning or zooming camera lets a frame a few
   samples away register almost as well, with a transform that is wrong;
2. checks the speed on the registered pictures: the mates of samples spread over the
   overlap lie on a line of slope 1 for one footage at one speed and of another slope for a
   slowed-down or sped-up copy;
3. refines that transform on every pair. A re-upload applies one transform to the whole
   clip, so the refined transforms must agree with each other (different footage that looks
   alike at one instant drifts apart over seconds);
4. compares the registered frames after a gain and offset fit (colour grading): pixels that
   differ by more than ``DIFF_LEVEL`` grey levels. Differences at the same place in most pairs
   are an overlay (logo, caption, watermark) and are ignored; differences that move are
   content: players and a ball where the other clip has none.

Two clips are the same footage when the transforms agree, the moving differences cover
less than ``MAX_MOVING`` of the picture in the median pair, and the registered pictures
change the same way over time (``MIN_MOTION_AGREEMENT``).

Every threshold here was set on the ``tuning`` split of ``footy_testbed.reuploads``.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

PAIRS = 8  # aligned frame pairs checked per candidate offset
MIN_OVERLAP = 30  # samples (3 s) the two clips must share
ZOOMS = (1.0, 0.87, 1.15, 0.78, 1.28)  # ECC starting points: same size, zoomed out or in
SCALE_RANGE = (0.65, 1.55)
MAX_ASPECT_CHANGE = 0.25  # |sx / sy - 1|
MAX_SHEAR = 0.05
MAX_DRIFT_SCALE = 0.04  # how far a pair's refined zoom may stray from the median
MAX_DRIFT_SHIFT = 0.04  # ...and its shift, as a fraction of the frame width
DIFF_LEVEL = 28.0  # grey levels
STATIC_SHARE = 0.25  # a pixel differing in at least this share of pairs is an overlay
MIN_INLIERS = 5  # pairs whose refined transform agrees with the median one
MAX_MOVING = 0.006  # share of the picture allowed to differ in the median pair
MIN_MOTION_AGREEMENT = 0.3  # cosine between the registered pictures' changes
CANDIDATES = 3  # time offsets verified per pair of clips
MOTION_LAG = 8  # samples (0.8 s) over which the motion signature looks at change
MOTION_WINDOW = 20  # samples (2 s) the motion signatures must agree over
MATE_RETRY = 2  # samples either side of a mate tried when its refinement fails
LOCAL_SEARCH = 3  # samples either side of the offset where a frame's mate is looked for
MATE_SEARCH = 8  # samples either side of a proposed mate tried when registering
DRIFT_SEARCH = 12  # samples either side of the offset where a registered frame's mate is sought
MAX_SPEED_CHANGE = 0.1  # |rate - 1| beyond which a copy plays at another speed
SPEED_RATES = tuple(np.round(np.geomspace(0.4, 2.5, 41), 3))  # rates of b against a tried
SPEED_POINTS = 16  # samples of a whose mates tell the speed
SPEED_LAG = 4  # samples over which the change of the pictures is correlated
SPEED_GAIN = 0.02  # mean correlation another rate must gain over the same speed
MAX_STILL_DIFF = 0.2  # share of the picture that may differ in most pairs (overlays)
STATIC_STD = 4.0  # grey levels: a pixel this still over the whole clip is an overlay or a bar
_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 60, 1e-5)
_REFINE = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 25, 1e-5)


@dataclass(frozen=True, eq=False)
class ClipView:
    """What verification needs of one clip, computed once however often it is compared."""

    frames: np.ndarray  # (n, h, w) uint8
    mask: np.ndarray  # moving_mask(frames)
    centre: np.ndarray  # centre_signature(frames)
    motion: np.ndarray  # motion_signature(centre)

    @classmethod
    def of(cls, frames: np.ndarray) -> ClipView:
        centre = centre_signature(frames)
        return cls(frames, moving_mask(frames), centre, motion_signature(centre))


@dataclass(frozen=True)
class Verification:
    same: bool
    offset: int  # samples: frame i of a shows what frame i - offset of b shows
    moving: float  # median share of the picture that differs and moves
    drift: float  # largest disagreement between the pairs' transforms (zoom units)
    scale: tuple[float, float]  # x, y zoom from a's frame to b's
    shift: tuple[float, float]  # x, y shift (fractions of the frame)
    pairs: int
    reason: str = ""
    motion: float = 0.0  # median agreement of the two clips' motion at the checked pairs
    time_drift: float = 0.0  # samples the mates drift over the checked span (speed rejections)

    def why(self) -> str:
        geo = (
            f"zoom {self.scale[0]:.2f}x{self.scale[1]:.2f}, shift "
            f"{self.shift[0]:+.2f},{self.shift[1]:+.2f}"
        )
        if self.same:
            return f"frames agree after registration ({geo}; {self.moving:.2%} differs)"
        return f"frames differ: {self.reason} ({geo})"


def _rejected(offset: int, reason: str, **measured) -> Verification:
    defaults = {"moving": 1.0, "drift": 0.0, "scale": (1, 1), "shift": (0, 0), "pairs": 0}
    return Verification(False, offset, reason=reason, **{**defaults, **measured})


def _blur(frame: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(frame.astype(np.float32), (0, 0), sigma)


def _plausible(w: np.ndarray) -> bool:
    sx, sy = float(w[0, 0]), float(w[1, 1])
    lo, hi = SCALE_RANGE
    return (
        lo < sx < hi
        and lo < sy < hi
        and abs(sx / sy - 1.0) <= MAX_ASPECT_CHANGE
        and abs(float(w[0, 1])) <= MAX_SHEAR
        and abs(float(w[1, 0])) <= MAX_SHEAR
    )


def moving_mask(frames: np.ndarray) -> np.ndarray:
    """uint8 mask of the pixels that change during the clip: logos, captions, watermarks and
    bars stay still and would pull the registration towards themselves."""
    step = max(1, len(frames) // 60)
    still = frames[::step].astype(np.float32).std(axis=0) < STATIC_STD
    still = cv2.dilate(still.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
    if still.mean() > 0.7:  # a clip that hardly moves: use all of it
        still[:] = False
    return (~still).astype(np.uint8)


def _ecc(
    a: np.ndarray, b: np.ndarray, init: np.ndarray, criteria, masks: tuple | None
) -> tuple[float, np.ndarray]:
    """ECC maximisation; (-1, init) when it does not converge."""
    try:
        if masks is None:
            cc, w = cv2.findTransformECC(a, b, init.copy(), cv2.MOTION_AFFINE, criteria, None, 1)
        else:
            cc, w = cv2.findTransformECCWithMask(a, b, masks[0], masks[1], init.copy(),
                                                 cv2.MOTION_AFFINE, criteria, 1)  # fmt: skip
    except cv2.error:
        return -1.0, init
    return float(cc), w


def register(a: np.ndarray, b: np.ndarray, masks: tuple | None = None) -> np.ndarray | None:
    """Affine W with b(W(x)) ~ a(x), or None when no plausible transform fits."""
    found = _register(a, b, masks)
    return None if found is None else found[1]


def _register(a: np.ndarray, b: np.ndarray, masks: tuple | None) -> tuple[float, np.ndarray] | None:
    h, w = a.shape
    fa, fb = _blur(a, 1.5), _blur(b, 1.5)
    best: tuple[float, np.ndarray] | None = None
    for z in ZOOMS:
        init = np.array([[z, 0, (1 - z) * w / 2], [0, z, (1 - z) * h / 2]], np.float32)
        cc, m = _ecc(fa, fb, init, _CRITERIA, masks)
        if cc > 0 and _plausible(m) and (best is None or cc > best[0]):
            best = (cc, m)
    return best


def _register_in_time(a: ClipView, b: ClipView, i: int, j: int) -> tuple[int, np.ndarray] | None:
    """Register a's sample ``i`` onto b's sample ``j``, then onto b's neighbours of ``j``
    (``MATE_SEARCH`` either side), starting from that transform: the best fit is the mate in
    time. A panning or zooming camera lets a frame a few samples away register almost as
    well, with a shifted or zoomed transform that would mislead every later check."""
    masks = (a.mask, b.mask)
    found = _register(a.frames[i], b.frames[j], masks)
    if found is None:
        return None
    best = (found[0], j, found[1])
    fa = _blur(a.frames[i], 1.5)
    tried = {j}

    def around(centre: int, step: int, reach: int) -> None:
        nonlocal best
        for k in range(centre - reach, centre + reach + 1, step):
            if 0 <= k < len(b.frames) and k not in tried:
                tried.add(k)
                cc, w = _ecc(fa, _blur(b.frames[k], 1.5), found[1], _REFINE, masks)
                if cc > best[0] and _plausible(w):
                    best = (cc, k, w)

    around(j, 1, MATE_SEARCH)  # every sample: the best fit is sharp, one sample wide
    return best[1], best[2]


def _valid(w: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    h, wd = shape
    inside = cv2.warpAffine(np.ones(shape, np.uint8), w, (wd, h),
                            flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP)  # fmt: skip
    return cv2.erode(inside, np.ones((5, 5), np.uint8)).astype(bool)


def _difference(a: np.ndarray, b: np.ndarray, w: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Pixels of ``a`` that differ from ``b`` registered by ``w``, after gain and offset."""
    h, wd = a.shape
    fa = _blur(a, 1.0)
    fb = cv2.warpAffine(_blur(b, 1.0), w, (wd, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
    x, y = fb[valid], fa[valid]
    sx = float(x.std())
    gain = float(((x - x.mean()) * (y - y.mean())).mean() / (sx * sx)) if sx > 1e-3 else 1.0
    gain = min(max(gain, 0.5), 2.0)
    off = float(y.mean() - gain * x.mean())
    return (np.abs(fa - (gain * fb + off)) > DIFF_LEVEL) & valid


def _centre_small(frame: np.ndarray) -> np.ndarray:
    """The centre 70 % of a frame, blurred, at 32x18."""
    h, w = frame.shape
    centre = frame[int(h * 0.15) : int(h * 0.85), int(w * 0.15) : int(w * 0.85)]
    return cv2.resize(cv2.GaussianBlur(centre, (0, 0), 1.5), (32, 18), interpolation=cv2.INTER_AREA)


def centre_signature(frames: np.ndarray) -> np.ndarray:
    """(n, 576) unit vectors: :func:`_centre_small` of each frame. The centre survives crops,
    zooms, bars and borders; overlays mostly sit at the edges."""
    small = np.stack([_centre_small(f) for f in frames]).reshape(len(frames), -1)
    small = small.astype(np.float32)
    small -= small.mean(axis=1, keepdims=True)
    small /= np.linalg.norm(small, axis=1, keepdims=True) + 1e-6
    return small


def motion_signature(centre: np.ndarray) -> np.ndarray:
    """How each centre signature changes over the next ``MOTION_LAG`` samples: still content
    (pitch markings, stands) cancels out, so it aligns two clips in time far more sharply
    than the pictures themselves do."""
    out = np.zeros_like(centre)
    out[:-MOTION_LAG] = centre[MOTION_LAG:] - centre[:-MOTION_LAG]
    return out


def _windowed_by_offset(sim: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """For every offset k (row i of ``sim`` against row i - k): the best mean similarity over
    ``window`` consecutive aligned samples. Returns (offsets, scores; -inf where too short)."""
    n, m = sim.shape
    ks = np.arange(-(m - 1), n)
    i = np.arange(m)[None, :] + ks[:, None]
    valid = (i >= 0) & (i < n)
    d = np.where(valid, sim[np.clip(i, 0, n - 1), np.arange(m)[None, :]], 0.0)
    zero = np.zeros((len(ks), 1))
    cs = np.concatenate([zero, np.cumsum(d, axis=1)], axis=1)
    cv = np.concatenate([zero, np.cumsum(valid, axis=1)], axis=1)
    if m < window:
        return ks, np.full(len(ks), -np.inf)
    sums, counts = cs[:, window:] - cs[:, :-window], cv[:, window:] - cv[:, :-window]
    score = np.where(counts >= window, sums / np.maximum(counts, 1), -np.inf).max(axis=1)
    return ks, score


def candidate_offsets(motion_a: np.ndarray, motion_b: np.ndarray, n: int = CANDIDATES) -> list[int]:
    """The ``n`` best time offsets (samples, at least 6 apart) by motion signature."""
    ks, score = _windowed_by_offset(motion_a @ motion_b.T, MOTION_WINDOW)
    picks: list[int] = []
    for r in np.argsort(-score):
        if not np.isfinite(score[r]) or len(picks) == n:
            break
        if all(abs(int(ks[r]) - p) > 5 for p in picks):
            picks.append(int(ks[r]))
    return picks


def _registered_mates(
    a: ClipView, b: ClipView, idx: np.ndarray, offset: int, w: np.ndarray
) -> tuple[dict[int, int], float, float]:
    """Mates and speed from the registered pictures.

    ``SPEED_POINTS`` samples of a, spread over the checked span, are correlated with every
    nearby sample of b registered by ``w``, by how the pictures change over ``SPEED_LAG``
    samples (the still pitch and stands cancel out, which makes the correlation sharp in
    time). A copy at the same speed puts its best mates on a line of slope 1, a copy at
    another speed on a line of another slope; each slope's best line is scored by its mean
    correlation, so one noisy sample cannot move it (b's lag is scaled by the slope, so both
    changes span the same footage). Returns the mates of ``idx`` (each sample's best mate
    within ``LOCAL_SEARCH`` of the slope-1 line), the best other rate, and how much its
    line scores above the slope-1 line."""
    fa, fb = a.frames, b.frames
    h, wd = fa.shape[1:]
    lag = SPEED_LAG
    fallback = {int(i): int(np.clip(i - offset, 0, len(fb) - 1)) for i in idx}
    points = np.unique(np.concatenate([idx, np.linspace(idx[0], idx[-1], SPEED_POINTS)]).round())
    points = points[points + lag < len(fa)].astype(int)
    mid, span = int(idx[len(idx) // 2]), int(idx[-1] - idx[0])
    rates = [r for r in SPEED_RATES if abs(r - 1.0) > MAX_SPEED_CHANGE]
    lags = {r: max(1, round(lag * r)) for r in (1.0, *rates)}
    j_lo = max(0, int(idx[0]) - offset - span - DRIFT_SEARCH)
    j_hi = min(len(fb), int(idx[-1]) - offset + span + DRIFT_SEARCH + 1 + max(lags.values()))
    if len(points) < len(idx) or j_hi - j_lo <= max(lags.values()) + len(idx):
        return fallback, 1.0, -np.inf
    valid = _valid(w, (h, wd)) & a.mask.astype(bool)
    if valid.sum() < 0.2 * valid.size:
        valid = _valid(w, (h, wd))

    def unit(change: np.ndarray) -> np.ndarray:
        v = change[:, valid]
        v = v - v.mean(axis=1, keepdims=True)
        return v / (np.linalg.norm(v, axis=1, keepdims=True) + 1e-6)

    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    pa = unit(np.stack([_blur(fa[i + lag], 1.5) - _blur(fa[i], 1.5) for i in points]))
    gb = np.stack([cv2.warpAffine(_blur(fb[j], 1.5), w, (wd, h), flags=flags)
                   for j in range(j_lo, j_hi)])  # fmt: skip
    sims: dict[int, np.ndarray] = {}  # by b's lag: (points, samples of b from j_lo)

    def sim_at(lag_b: int) -> np.ndarray:
        if lag_b not in sims:
            sims[lag_b] = pa @ unit(gb[lag_b:] - gb[:-lag_b]).T
        return sims[lag_b]

    rows, rel = np.arange(len(points)), (points - mid).astype(np.float64)

    def line(rate: float) -> tuple[float, int]:
        """Best mean correlation of a line of this slope, and its sample of b at ``mid``."""
        sim = sim_at(lags[rate])
        best = (-np.inf, mid - offset)
        for c in range(mid - offset - DRIFT_SEARCH, mid - offset + DRIFT_SEARCH + 1):
            js = np.round(c + rate * rel).astype(int) - j_lo
            inside = (js >= 0) & (js < sim.shape[1])
            if inside.mean() < 0.8:
                continue
            score = float(sim[rows[inside], js[inside]].mean())
            if score > best[0]:
                best = (score, c)
        return best

    same, c1 = line(1.0)
    if not np.isfinite(same):
        return fallback, 1.0, -np.inf
    other, rate = max(((line(r)[0], r) for r in rates), default=(-np.inf, 1.0))
    sim = sim_at(lags[1.0])
    mates = {}
    for i in idx:
        k = int(np.searchsorted(points, i))
        centre = c1 + int(i) - mid - j_lo
        js = np.arange(max(0, centre - LOCAL_SEARCH), min(sim.shape[1], centre + LOCAL_SEARCH + 1))
        if k < len(points) and points[k] == i and len(js):
            centre = int(js[np.argmax(sim[k, js])])
        mates[int(i)] = int(np.clip(centre + j_lo, 0, len(fb) - 1))
    return mates, rate, other - same


def _near(w: np.ndarray, w0: np.ndarray, width: float) -> bool:
    """Does ``w`` stay within the drift limits of ``w0``?"""
    scale = np.abs(w[[0, 1], [0, 1]] - w0[[0, 1], [0, 1]]).max()
    shift = np.abs(w[:, 2] - w0[:, 2]).max() / width
    return bool(scale <= MAX_DRIFT_SCALE and shift <= MAX_DRIFT_SHIFT)


def _refine_pair(
    a: ClipView, b: ClipView, i: int, j: int, w0: np.ndarray
) -> tuple[int, np.ndarray] | None:
    """``w0`` refined on a's sample ``i`` and its mate ``j`` in b: (mate, transform), or None.

    A mate one or two samples off (a panning camera, sample grids out of step) makes the
    refinement bend the transform to make up for the motion, and a copy that is the same
    footage looks as if its transform drifted; so when the refinement at ``j`` is implausible
    or strays from ``w0``, the neighbours up to ``MATE_RETRY`` samples away are tried and the
    best fit that stays near ``w0`` wins."""
    masks = (a.mask, b.mask)
    fa = _blur(a.frames[i], 1.0)
    width = float(a.frames.shape[2])
    best: tuple[float, int, np.ndarray] | None = None
    for k in (j, *(j + d for r in range(1, MATE_RETRY + 1) for d in (-r, r))):
        if not 0 <= k < len(b.frames):
            continue
        cc, w = _ecc(fa, _blur(b.frames[k], 1.0), w0, _REFINE, masks)
        if cc <= 0 or not _plausible(w):
            continue
        if k == j and _near(w, w0, width):
            return j, w
        if _near(w, w0, width) and (best is None or cc > best[0]):
            best = (cc, k, w)
        elif k == j:
            best = best or (-1.0, k, w)  # plausible but astray: kept unless a neighbour fits
    return None if best is None else (best[1], best[2])


def verify(a: ClipView, b: ClipView, offset: int) -> Verification:
    """Are clips ``a`` and ``b`` the same footage at ``offset`` samples?"""
    fa, fb = a.frames, b.frames
    lo, hi = max(0, offset), min(len(fa), len(fb) + offset)
    shape = fa.shape[1:]
    if hi - lo < MIN_OVERLAP:
        return _rejected(offset, "overlap too short")
    # pairs spread over the overlap, away from its ends (trims, fades); each frame of a is
    # paired with the closest-moving frame of b within ``LOCAL_SEARCH`` samples of the offset
    # (by the picture where fewer than MOTION_LAG samples are left to see motion in)
    idx = np.linspace(lo, hi - 1, PAIRS + 2)[1:-1].round().astype(int)
    mate = {}
    for i in idx:
        near = i - offset
        js = np.arange(max(0, near - LOCAL_SEARCH), min(len(fb), near + LOCAL_SEARCH + 1))
        moves = i < len(fa) - MOTION_LAG and js[-1] < len(fb) - MOTION_LAG
        sa, sb = (a.motion, b.motion) if moves else (a.centre, b.centre)
        mate[int(i)] = int(js[np.argmax(sb[js] @ sa[i])])
    mid = int(idx[len(idx) // 2])
    for i in (mid, int(idx[len(idx) // 4]), int(idx[3 * len(idx) // 4])):
        registered = _register_in_time(a, b, i, mate[i])
        if registered is not None:
            break
    if registered is None:
        return _rejected(offset, "no transform fits")
    w0 = registered[1]
    # with the pictures registered, each frame's mate is found far more surely than by the
    # motion signatures; a copy at another speed shows as mates that drift away from the
    # offset at a steady rate
    mate, speed, gain = _registered_mates(a, b, idx, offset, w0)
    if gain > SPEED_GAIN:
        why = f"played at another speed ({1 / speed:.2f}x, correlation +{gain:.2f})"
        return _rejected(offset, why, time_drift=abs(speed - 1.0) * float(idx[-1] - idx[0]))
    pairs = []
    for i in idx:
        refined = _refine_pair(a, b, int(i), mate[int(i)], w0)
        if refined is not None:
            mate[int(i)] = refined[0]
            pairs.append((int(i), refined[1]))
    if len(pairs) < len(idx) // 2 + 1:
        return _rejected(offset, "the transform does not hold over time", pairs=len(pairs))
    stack = np.stack([w for _, w in pairs])
    med = np.median(stack, axis=0).astype(np.float32)
    width = float(shape[1])
    scale_dev = np.abs(stack[:, [0, 1], [0, 1]] - med[[0, 1], [0, 1]]).max(axis=1)
    shift_dev = np.abs(stack[:, :, 2] - med[:, 2]).max(axis=1) / width
    inlier = (scale_dev <= MAX_DRIFT_SCALE) & (shift_dev <= MAX_DRIFT_SHIFT)
    geometry = {
        "drift": float(np.median(np.maximum(scale_dev, shift_dev))),
        "scale": (float(med[0, 0]), float(med[1, 1])),
        "shift": (float(med[0, 2]) / width, float(med[1, 2]) / float(shape[0])),
        "pairs": len(pairs),
    }
    if inlier.sum() < MIN_INLIERS:
        why = f"the transform drifts over time ({geometry['drift']:.3f})"
        return _rejected(offset, why, **geometry)
    inliers = [p for p, ok in zip(pairs, inlier, strict=True) if ok]
    # each pair compared under its own refined transform; valid where every pair has picture
    valid = np.logical_and.reduce([_valid(w, shape) for _, w in inliers])
    area = max(1, int(valid.sum()))
    if area < 0.3 * valid.size:
        return _rejected(offset, "too little of the pictures overlaps", **geometry)
    diffs = np.stack([_difference(fa[i], fb[mate[i]], w, valid) for i, w in inliers])
    static = diffs.mean(axis=0) >= STATIC_SHARE
    still = float(static.sum()) / area
    if still > MAX_STILL_DIFF:  # more than overlays can cover: the pictures differ
        return _rejected(offset, f"{still:.0%} of the picture differs throughout", **geometry)
    moving = float(np.median([(d & ~static).sum() / area for d in diffs]))
    agree = _registered_motion(fa, fb, [(int(i), mate[int(i)]) for i in idx], med)
    same = moving <= MAX_MOVING and agree >= MIN_MOTION_AGREEMENT
    if moving > MAX_MOVING:
        reason = f"{moving:.2%} of the picture differs and moves"
    elif not same:
        reason = f"the pictures move differently (agreement {agree:.2f})"
    else:
        reason = ""
    return Verification(same, offset, moving, reason=reason, motion=agree,
                        **geometry)  # fmt: skip


def _registered_motion(
    fa: np.ndarray, fb: np.ndarray, mates: list[tuple[int, int]], w: np.ndarray
) -> float:
    """Median cosine between how a's picture and b's registered picture change over the next
    ``MOTION_LAG`` samples: one footage moves the same way, another goal seen from the same
    spot does not (its players and camera move otherwise)."""
    h, wd = fa.shape[1:]

    def sig(frame: np.ndarray, warp: bool) -> np.ndarray:
        f = frame.astype(np.float32)
        if warp:
            f = cv2.warpAffine(f, w, (wd, h), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP)
        small = _centre_small(f)
        return small.ravel() - small.mean()

    cos = []
    for i, j in mates:
        if i + MOTION_LAG >= len(fa) or j + MOTION_LAG >= len(fb):
            continue
        da = sig(fa[i + MOTION_LAG], False) - sig(fa[i], False)
        db = sig(fb[j + MOTION_LAG], True) - sig(fb[j], True)
        na, nb = float(np.linalg.norm(da)), float(np.linalg.norm(db))
        if na > 1e-3 and nb > 1e-3:
            cos.append(float(da @ db) / (na * nb))
    return float(np.median(cos)) if cos else 1.0
