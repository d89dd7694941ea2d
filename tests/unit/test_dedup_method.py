"""Fingerprint method versions and bar detection, on arrays (no video, no database)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from footy.dedup import METHOD_VERSION, Fingerprint, FingerprintMethodError, match
from footy.dedup.fingerprint import BAR_LEVEL, _detect_bars
from footy.dedup.match import FramesNeededError


def make_fp(method: int = METHOD_VERSION, seed: int = 0, frames: bool = False) -> Fingerprint:
    rng = np.random.default_rng(seed)
    n = 80
    pictures = rng.integers(0, 256, size=(n, 72, 128), dtype=np.uint8) if frames else None
    return Fingerprint(
        hashes=rng.integers(0, 2**63, size=n, dtype=np.uint64),
        times=np.arange(n, dtype=np.float32) * 0.1,
        width=1280, height=720, eff_width=1280, eff_height=720, fps=30.0,
        frame_count=240, duration=8.0, file_size=1000, bits_per_pixel=0.1, method=method,
        frames=pictures,
    )  # fmt: skip


def test_the_method_survives_the_bytes_and_the_frames_are_never_stored():
    fp = Fingerprint.from_bytes(make_fp(frames=True).to_bytes())
    assert fp.method == METHOD_VERSION and fp.is_current
    assert fp.frames is None


def test_bytes_written_before_methods_were_recorded_read_as_method_1():
    raw = bytearray(make_fp().to_bytes())
    raw[6:8] = (0).to_bytes(2, "little")  # the field older versions wrote as 0
    fp = Fingerprint.from_bytes(bytes(raw))
    assert fp.method == 1 and not fp.is_current


def test_fingerprints_of_different_methods_are_never_compared():
    new = make_fp(frames=True)
    old = dataclasses.replace(new, method=1)
    assert match(new, make_fp(frames=True, seed=1)).rule == "verified on frames"
    with pytest.raises(FingerprintMethodError):
        match(new, old)


def test_a_fingerprint_read_back_from_storage_is_not_enough_to_match():
    stored = Fingerprint.from_bytes(make_fp(frames=True).to_bytes())
    with pytest.raises(FramesNeededError):
        match(make_fp(frames=True), stored)


def letterboxed(watermark_width: float) -> list[np.ndarray]:
    """Work images 160x120: a 16:9 picture (90 rows) between two 15-row black bars, with a
    bright watermark strip of the given width inside the top bar."""
    rng = np.random.default_rng(1)
    frames = []
    for _ in range(8):
        img = np.zeros((120, 160), np.uint8)
        img[15:105] = rng.integers(60, 200, size=(90, 160), dtype=np.uint8)
        w = int(160 * watermark_width)
        img[5:11, (160 - w) // 2 : (160 - w) // 2 + w] = 230
        frames.append(img)
    return frames


@pytest.mark.parametrize("width", [0.0, 0.3, 0.45])
def test_a_watermark_inside_a_bar_does_not_hide_the_bar(width):
    assert _detect_bars(letterboxed(width)) == (15, 15, 0, 0)


def test_dark_picture_rows_are_not_bars():
    frames = letterboxed(0.0)
    for f in frames:  # a dark stand above a bright pitch is still picture
        f[15:30] = np.clip(f[15:30] // 4, BAR_LEVEL + 4, 255)
    assert _detect_bars(frames) == (15, 15, 0, 0)
