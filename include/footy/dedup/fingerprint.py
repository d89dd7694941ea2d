"""Per-clip fingerprints: a 64-bit dHash every ~0.1 s plus the metadata quality ranking needs.

One sequential decoding pass: ``grab()`` every frame (cheap: no colour conversion),
``retrieve()`` only the frame nearest each sample time. Sampling is by timestamp, not frame
index, so a 25 fps and a 50 fps copy of the same footage sample the same instants.

Luma straight from the decoder: for 8-bit YUV streams the capture's BGR conversion is turned
off (``CAP_PROP_CONVERT_RGB`` = 0) and ``retrieve()`` returns the Y plane, which *is* the grey
image; the per-frame YUV->BGR conversion (and BGR->grey) was most of the cost above a
decode-only pass. Other pixel formats (10-bit, RGB) keep the BGR path.

Per sampled frame: shrink the grey frame to a small work image first (INTER_AREA), strip
letterbox/pillarbox bars (detected once from the first bright samples), equalise the
histogram, shrink to 9x8 and take the 64 horizontal-gradient sign bits (dHash).

Every fingerprint records the method that made it (:data:`METHOD_VERSION`). Fingerprints of
different methods are never compared (:func:`footy.dedup.match` refuses them); a stored
fingerprint of an older method is computed again from the clip when it is next needed.
Method history:

1. dHash every 0.1 s; bars are rows/columns whose *mean* stays dark.
2. bars are rows/columns whose *median* stays dark, so a watermark or caption inside a
   letterbox bar no longer hides the bar (and no longer makes the copy look larger).
3. the dHash only proposes time offsets; a match is verified on the frames (kept in memory,
   128x72 grey per sample, never stored): see :mod:`footy.dedup.match`.
4. a bar hidden under an overlay (a caption band across a letterbox bar) still counts as a
   bar for the effective size: bars come in pairs, so when one edge has a bar and the
   opposite edge shows a still band instead, that band is not picture (:func:`_covered`);
   a "border" re-upload (the picture scaled down over a blurred copy of itself) counts only
   its sharp inner picture (:func:`_border_scale`); and verification retries a frame's mate
   a sample or two away when refining the transform on it fails
   (:func:`footy.dedup.verify._refine_pair`).
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from footy.errors import PermanentError

SAMPLE_STEP = 0.1  # seconds between samples (10 per second)
WORK_W = 160  # width of the grey work image the hash is computed from
HASH_W, HASH_H = 9, 8  # dHash grid: 8 comparisons per row x 8 rows = 64 bits
FRAME_W, FRAME_H = 128, 72  # grey frames kept in memory for verification (bars stripped)
BLUR_SIGMA = 3.0  # work-image pixels (~1/6 of a hash cell)
BAR_LEVEL = 24  # a row/column whose brightest mean stays below this is a bar (0..255)
BAR_SAMPLES = 8  # bright samples used to detect bars
BAR_MAX_WAIT = 60  # ...looking at most this many samples (a long fade-in)
STILL_STD = 6.0  # grey levels: a pixel this steady over the clip is not footage
BORDER_SHARPNESS = 0.35  # an edge column this much less detailed than the centre is blurred fill
BORDER_MIN_COLUMNS = 3  # kept-frame columns (of FRAME_W) each side: about 2 % of the width
STILL_SHARE = 0.8  # share of still pixels that makes an edge band an overlay, not picture
# Decoder pixel formats (CAP_PROP_CODEC_PIXEL_FORMAT fourcc) whose first plane is 8-bit luma.
LUMA_FORMATS = frozenset(
    {"I420", "IYUV", "YV12", "J420", "Y42B", "422P", "Y444", "444P", "NV12", "NV21", "Y800"}
)
METHOD_VERSION = 4
_MAGIC = b"FPH1"
_HEADER = struct.Struct("<4sHHIIIIIIddddQd4H")  # 88 bytes


class CorruptClipError(PermanentError):
    """The file cannot be opened or decoded as video."""


class FingerprintMethodError(ValueError):
    """Two fingerprints made by different methods: comparing them would mean nothing."""


@dataclass(frozen=True)
class ClipInfo:
    """Container-level facts about a clip, read without decoding it."""

    width: int
    height: int
    fps: float
    frame_count: int
    duration: float


@dataclass(frozen=True, eq=False)
class Fingerprint:
    hashes: np.ndarray  # (n,) uint64 dHash per sample
    times: np.ndarray  # (n,) float32 sample times in seconds from the first frame
    width: int
    height: int
    eff_width: int  # after stripping letterbox/pillarbox bars
    eff_height: int
    fps: float
    frame_count: int
    duration: float
    file_size: int
    bits_per_pixel: float  # bits / (coded pixels x frames)
    bars: tuple[int, int, int, int] = (0, 0, 0, 0)  # top, bottom, left, right in pixels
    step: float = SAMPLE_STEP
    method: int = METHOD_VERSION  # the method that made it (1: before methods were recorded)
    meta: dict[str, str] = field(default_factory=dict, compare=False)
    # (n, FRAME_H, FRAME_W) uint8, one per sample: for verifying a candidate match. Kept in
    # memory only (never stored): a fingerprint read back from bytes has none.
    frames: np.ndarray | None = field(default=None, compare=False, repr=False)

    def __len__(self) -> int:
        return int(self.hashes.shape[0])

    @property
    def is_current(self) -> bool:
        """Made by this version's method (else compute it again before comparing)."""
        return self.method == METHOD_VERSION

    @property
    def eff_pixels(self) -> int:
        return self.eff_width * self.eff_height

    def to_bytes(self) -> bytes:
        """Compact little-endian binary (header, hashes, times): a BSON binary field."""
        n = len(self)
        header = _HEADER.pack(
            _MAGIC, 1, self.method, self.width, self.height, self.eff_width, self.eff_height,
            self.frame_count, n, self.fps, self.duration, self.bits_per_pixel, 0.0,
            self.file_size, self.step, *self.bars,
        )  # fmt: skip
        return (
            header
            + np.ascontiguousarray(self.hashes, dtype="<u8").tobytes()
            + np.ascontiguousarray(self.times, dtype="<f4").tobytes()
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> Fingerprint:
        if len(data) < _HEADER.size:
            raise ValueError("fingerprint: truncated header")
        (magic, version, method, w, h, ew, eh, fc, n, fps, dur, bpp, _r, size, step,
         *bars) = _HEADER.unpack_from(data)  # fmt: skip
        if magic != _MAGIC or version != 1:
            raise ValueError(f"fingerprint: unknown format {magic!r} v{version}")
        expected = _HEADER.size + 12 * n
        if len(data) != expected:
            raise ValueError(f"fingerprint: {len(data)} bytes, expected {expected}")
        off = _HEADER.size
        hashes = np.frombuffer(data, dtype="<u8", count=n, offset=off).astype(np.uint64)
        times = np.frombuffer(data, dtype="<f4", count=n, offset=off + 8 * n).astype(np.float32)
        return cls(
            hashes=hashes, times=times, width=w, height=h, eff_width=ew, eff_height=eh,
            fps=fps, frame_count=fc, duration=dur, file_size=size, bits_per_pixel=bpp,
            bars=(bars[0], bars[1], bars[2], bars[3]), step=step,
            method=method or 1,  # the field was written as 0 before methods were recorded
        )  # fmt: skip


def _open(path: str | os.PathLike[str]) -> cv2.VideoCapture:
    p = Path(path)
    if not p.is_file():
        raise CorruptClipError(f"{p}: no such file")
    cap = cv2.VideoCapture(str(p), cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        raise CorruptClipError(f"{p}: cannot open as video")
    return cap


def _info(cap: cv2.VideoCapture, path: str | os.PathLike[str]) -> ClipInfo:
    w = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH))
    h = int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
    n = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
    if w <= 0 or h <= 0:
        raise CorruptClipError(f"{path}: no video stream")
    if not (0.5 < fps < 1000):
        fps = 0.0
    duration = n / fps if fps and n > 0 else 0.0
    return ClipInfo(width=w, height=h, fps=fps, frame_count=max(n, 0), duration=duration)


def probe(path: str | os.PathLike[str]) -> ClipInfo:
    """Width, height, frame rate, frame count and duration from the container (no decoding)."""
    cap = _open(path)
    try:
        return _info(cap, path)
    finally:
        cap.release()


def _detect_bars(work: list[np.ndarray]) -> tuple[int, int, int, int]:
    """Bars (top, bottom, left, right) in work-image pixels from a few grey work images.

    A row (column) is bar when its median stays dark in every sample: a logo, watermark or
    caption inside a bar covers part of the row only, so the median ignores it (a mean would
    call the row picture and make the copy look larger than it is)."""
    stack = np.stack(work)
    rows = np.median(stack, axis=2).max(axis=0)  # brightest median per row over the samples
    cols = np.median(stack, axis=1).max(axis=0)

    def run(v: np.ndarray) -> int:
        dark = v < BAR_LEVEL
        return int(np.argmin(dark)) if not dark.all() else len(v)

    top, bottom = run(rows), run(rows[::-1])
    left, right = run(cols), run(cols[::-1])
    h, w = stack.shape[1:]
    if top + bottom > h // 2:
        top = bottom = 0
    if left + right > w // 2:
        left = right = 0
    return top, bottom, left, right


def _hash_block(small: list[np.ndarray]) -> np.ndarray:
    """dHash of many 9x8 grey images at once -> (n,) uint64."""
    arr = np.stack(small).astype(np.int16)  # (n, 8, 9)
    bits = (arr[:, :, 1:] > arr[:, :, :-1]).reshape(len(small), 64)
    packed = np.packbits(bits, axis=1, bitorder="big")  # (n, 8) bytes, MSB first
    return packed.view(">u8").reshape(-1).astype(np.uint64)


_quiet_lock = threading.Lock()
_quiet_users = 0
_quiet_saved: int | None = None


@contextmanager
def _quiet_opencv() -> Iterator[None]:
    """Silence OpenCV's per-frame "unsupported picture format" warning of the raw-luma path
    (process-wide log level, so reference-counted across threads)."""
    global _quiet_users, _quiet_saved
    with _quiet_lock:
        if _quiet_users == 0:
            _quiet_saved = cv2.utils.logging.getLogLevel()
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
        _quiet_users += 1
    try:
        yield
    finally:
        with _quiet_lock:
            _quiet_users -= 1
            if _quiet_users == 0 and _quiet_saved is not None:
                cv2.utils.logging.setLogLevel(_quiet_saved)


def _fourcc(value: float) -> str:
    v = int(value)
    return "".join(chr((v >> (8 * i)) & 0xFF) for i in range(4))


def _luma_mode(cap: cv2.VideoCapture) -> bool:
    """Ask the decoder for raw frames when their first plane is 8-bit luma."""
    if _fourcc(cap.get(cv2.CAP_PROP_CODEC_PIXEL_FORMAT)) not in LUMA_FORMATS:
        return False
    return bool(cap.set(cv2.CAP_PROP_CONVERT_RGB, 0))


def _grey(frame: np.ndarray, w: int, h: int) -> np.ndarray:
    """A retrieved frame as a grey work image: the Y plane as is, a BGR frame converted."""
    if frame.ndim == 2:
        return _shrink(frame, w, h)
    return cv2.cvtColor(_shrink(frame, w, h), cv2.COLOR_BGR2GRAY)


def _shrink(frame: np.ndarray, w: int, h: int) -> np.ndarray:
    """Full frame -> work image. A full-resolution INTER_AREA costs as much as the colour
    conversion in retrieve(); bilinear to twice the work size, then area-average, is ~8x
    cheaper and the later blur and 9x8 averaging absorb the aliasing."""
    fh, fw = frame.shape[:2]
    if fw > 4 * w and fh > 4 * h:
        frame = cv2.resize(frame, (2 * w, 2 * h), interpolation=cv2.INTER_LINEAR)
    return cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)


def _frame(grey: np.ndarray, crop: tuple[int, int, int, int]) -> np.ndarray:
    """The picture (bars stripped) at the verification size."""
    top, bottom, left, right = crop
    h, w = grey.shape
    roi = grey[top : h - bottom, left : w - right]
    return cv2.resize(roi, (FRAME_W, FRAME_H), interpolation=cv2.INTER_AREA)


def _tiny(grey: np.ndarray, crop: tuple[int, int, int, int]) -> np.ndarray:
    top, bottom, left, right = crop
    h, w = grey.shape
    roi = grey[top : h - bottom, left : w - right]
    roi = cv2.equalizeHist(np.ascontiguousarray(roi))
    # soften before the 9x8 reduction: the gradient signs then survive small crops and shifts
    roi = cv2.GaussianBlur(roi, (0, 0), BLUR_SIGMA)
    return cv2.resize(roi, (HASH_W, HASH_H), interpolation=cv2.INTER_AREA)


def fingerprint(path: str | os.PathLike[str], *, step: float = SAMPLE_STEP) -> Fingerprint:
    """Fingerprint a clip in one decoding pass. Raises :class:`CorruptClipError`."""
    with _quiet_opencv():
        return _fingerprint(path, step)


def _fingerprint(path: str | os.PathLike[str], step: float) -> Fingerprint:
    cap = _open(path)
    try:
        info = _info(cap, path)
        luma = _luma_mode(cap)
        work_h = max(8, int(round(WORK_W * info.height / info.width)))
        fps = info.fps
        frame_dt = 1.0 / fps if fps else 0.0
        times: list[float] = []
        pending: list[np.ndarray] = []  # grey work images waiting for bar detection
        bright = 0
        crop: tuple[int, int, int, int] | None = None
        tiny: list[np.ndarray] = []
        frames_kept: list[np.ndarray] = []
        next_t = 0.0
        t0: float | None = None
        last_t = -1.0
        idx = -1
        frame: np.ndarray | None = None
        while cap.grab():
            idx += 1
            pos = cap.get(cv2.CAP_PROP_POS_MSEC) / 1000.0
            t = pos if pos > last_t or not fps else idx * frame_dt
            if t0 is None:
                t0 = t
            t -= t0
            last_t = t + t0
            if t + frame_dt / 2 < next_t:
                continue
            # into the previous frame's buffer: no fresh full-frame allocation per sample
            ok, frame = cap.retrieve(frame)
            if not ok or frame is None:
                continue
            while next_t <= t + frame_dt / 2:
                next_t += step
            if luma and frame.shape[:2] != (info.height, info.width):
                # not the plane we expected: back to the decoder's BGR conversion
                luma = not cap.set(cv2.CAP_PROP_CONVERT_RGB, 1)
                ok, frame = cap.retrieve()
                if not ok or frame is None:
                    continue
            grey = _grey(frame, WORK_W, work_h)
            times.append(t)
            if crop is None:
                pending.append(grey)
                bright += bool(grey.mean() > 2 * BAR_LEVEL)
                if bright >= BAR_SAMPLES or len(pending) >= BAR_MAX_WAIT:
                    crop = _settle(pending)
                    tiny.extend(_tiny(g, crop) for g in pending)
                    frames_kept.extend(_frame(g, crop) for g in pending)
                    pending = []
            else:
                tiny.append(_tiny(grey, crop))
                frames_kept.append(_frame(grey, crop))
        frames = idx + 1
    finally:
        cap.release()
    if frames <= 0 or not times:
        raise CorruptClipError(f"{path}: no decodable frames")
    if crop is None:
        crop = _settle(pending)
        tiny.extend(_tiny(g, crop) for g in pending)
        frames_kept.extend(_frame(g, crop) for g in pending)
    hashes = _hash_block(tiny)
    if not fps:
        fps = (frames - 1) / last_t if last_t > 0 else 25.0
    duration = frames / fps
    size = os.path.getsize(path)
    top, bottom, left, right = crop
    # bars back in source pixels (without the one-pixel safety margin used for hashing)
    sy, sx = info.height / work_h, info.width / WORK_W
    bars_px = tuple(
        int(round(max(0, v - 1) * s)) if v else 0
        for v, s in ((top, sy), (bottom, sy), (left, sx), (right, sx))
    )
    hidden = _covered(bars_px, frames_kept, (info.height, info.width))
    inner = _border_scale(frames_kept)
    eff_w = max(1, int(round((info.width - hidden[2] - hidden[3]) * inner)))
    eff_h = max(1, int(round((info.height - hidden[0] - hidden[1]) * inner)))
    bpp = size * 8.0 / max(1.0, info.width * info.height * frames)
    return Fingerprint(
        hashes=hashes,
        times=np.asarray(times, dtype=np.float32),
        width=info.width,
        height=info.height,
        eff_width=eff_w,
        eff_height=eff_h,
        fps=float(fps),
        frame_count=frames,
        duration=float(duration),
        file_size=int(size),
        bits_per_pixel=float(bpp),
        bars=(bars_px[0], bars_px[1], bars_px[2], bars_px[3]),
        step=float(step),
        frames=np.stack(frames_kept),
    )


def _covered(
    bars: tuple[int, ...], frames: list[np.ndarray], size: tuple[int, int]
) -> tuple[int, int, int, int]:
    """Bars (source pixels) for the effective size, with a bar hidden under an overlay.

    Letterbox and pillarbox bars come in pairs of equal size. A caption band laid across one
    bar makes that bar look like picture, and the copy look larger than a clean one. When one
    edge has a bar and the opposite edge a narrower one, and the band between them (in the
    kept frames) stays still over the clip, the opposite bar is taken to be as wide: footage
    moves, an overlay does not."""
    out = list(bars)
    if not frames:
        return bars  # type: ignore[return-value]
    stack = np.stack(frames[:: max(1, len(frames) // 60)]).astype(np.float32)
    steady = stack.std(axis=0) < STILL_STD  # (FRAME_H, FRAME_W) of the picture
    h, w = size
    for a, b, axis, extent in ((0, 1, 0, h), (2, 3, 1, w)):
        for big, small, at_end in ((a, b, True), (b, a, False)):
            gap = out[big] - out[small]
            picture = extent - out[a] - out[b]
            if out[big] == 0 or gap <= max(2, 0.01 * extent) or picture <= 0:
                continue
            cells = int(round(gap / picture * (FRAME_H if axis == 0 else FRAME_W)))
            if cells < 1:
                continue
            if axis == 0:
                band = steady[-cells:, :] if at_end else steady[:cells, :]
            else:
                band = steady[:, -cells:] if at_end else steady[:, :cells]
            if band.mean() >= STILL_SHARE:
                out[small] = out[big]
    return tuple(out)  # type: ignore[return-value]


def _border_scale(frames: list[np.ndarray]) -> float:
    """The share of the picture's width (and height) that is footage, below 1.0 for a "border"
    re-upload: the clip scaled down and centred over a blurred, enlarged copy of itself.

    The blurred fill moves with the footage, so it is neither a bar nor still; it has no
    detail. Columns from each side whose detail (mean absolute Laplacian over the clip) stays
    under ``BORDER_SHARPNESS`` of the centre's are fill. Only the sides are read: the top of a
    football picture (sky, a roof, an empty stand) can be as smooth as fill, its sides are not.
    A border is centred, so both sides must agree (within two columns)."""
    if not frames:
        return 1.0
    stack = frames[:: max(1, len(frames) // 60)]
    detail = np.mean([np.abs(cv2.Laplacian(f, cv2.CV_32F)) for f in stack], axis=0)
    h, w = detail.shape
    cols = detail[h // 4 : 3 * h // 4, :].mean(axis=0)
    centre = float(np.median(cols[w // 4 : 3 * w // 4]))
    if centre <= 1e-3:
        return 1.0
    fill = cols < BORDER_SHARPNESS * centre

    def run(v: np.ndarray) -> int:
        return int(np.argmin(v)) if not v.all() else len(v)

    left, right = run(fill), run(fill[::-1])
    if min(left, right) < BORDER_MIN_COLUMNS or abs(left - right) > 2 or left + right > w // 3:
        return 1.0
    return 1.0 - (left + right) / w


def _settle(pending: list[np.ndarray]) -> tuple[int, int, int, int]:
    """Bars from the bright pending samples, plus a one-pixel margin for the blended edge."""
    bright = [g for g in pending if g.mean() > 2 * BAR_LEVEL] or pending
    top, bottom, left, right = _detect_bars(bright)
    return tuple(v + 1 if v else 0 for v in (top, bottom, left, right))  # type: ignore[return-value]
