"""Which copy of a clip to keep: a total, deterministic order with a human explanation.

Criteria, in order (each compared only when all earlier ones tie):

1. duration band: a clip longer than ``BAND_FACTOR`` x the cluster's (low) median duration is
   out of band (a compilation) and ranks below every in-band clip, whatever its quality;
2. effective resolution (pixels after stripping letterbox/pillarbox bars), in 2 % steps;
3. bits per pixel (coded pixels x frames), in 5 % steps;
4. frame rate, to the nearest frame per second;
5. duration (longer first, in 0.5 s steps; the band already excludes compilations);
6. the key (ascending, as text) so that ties are broken the same way every time.

Works on anything with ``eff_width, eff_height, bits_per_pixel, fps, duration`` attributes
(a :class:`~footy.dedup.fingerprint.Fingerprint`, or :class:`Quality` in tests).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from typing import Protocol, TypeVar

BAND_FACTOR = 2.0
K = TypeVar("K", bound=Hashable)


class HasQuality(Protocol):
    eff_width: int
    eff_height: int
    bits_per_pixel: float
    fps: float
    duration: float


@dataclass(frozen=True)
class Quality:
    eff_width: int
    eff_height: int
    bits_per_pixel: float
    fps: float
    duration: float


def band_limit(durations: list[float]) -> float:
    """Longest in-band duration for a cluster with these durations."""
    if not durations:
        return math.inf
    return BAND_FACTOR * statistics.median_low(durations)


def _q(value: float, step: float) -> int:
    return int(round(math.log(max(value, 1e-9)) / math.log(step)))


def quality_key(q: HasQuality, key: Hashable, limit: float) -> tuple:
    """Sort key: smaller is better."""
    in_band = q.duration <= limit + 1e-6
    return (
        0 if in_band else 1,
        -_q(q.eff_width * q.eff_height, 1.02),
        -_q(q.bits_per_pixel, 1.05),
        -int(round(q.fps)),
        -int(round(q.duration * 2)),
        str(key),
    )


def rank(items: Mapping[K, HasQuality]) -> list[K]:
    """Keys best first."""
    limit = band_limit([q.duration for q in items.values()])
    return sorted(items, key=lambda k: quality_key(items[k], k, limit))


def _describe(q: HasQuality) -> str:
    return (
        f"{q.eff_width}x{q.eff_height} effective, {q.bits_per_pixel:.3f} bpp, "
        f"{q.fps:.0f} fps, {q.duration:.1f}s"
    )


def compare_reason(best: HasQuality, other: HasQuality, limit: float) -> str:
    """Why ``best`` ranks above ``other`` (the first criterion that differs)."""
    kb, ko = quality_key(best, "", limit), quality_key(other, "", limit)
    if kb[0] != ko[0]:
        return f"{other.duration:.1f}s is outside the duration band (> {limit:.1f}s)"
    if kb[1] != ko[1]:
        return (
            f"lower effective resolution {other.eff_width}x{other.eff_height} "
            f"< {best.eff_width}x{best.eff_height}"
        )
    if kb[2] != ko[2]:
        return f"lower bitrate {other.bits_per_pixel:.3f} < {best.bits_per_pixel:.3f} bpp"
    if kb[3] != ko[3]:
        return f"lower frame rate {other.fps:.0f} < {best.fps:.0f} fps"
    if kb[4] != ko[4]:
        return f"shorter {other.duration:.1f}s < {best.duration:.1f}s"
    return "equal quality, tie broken by name"


def explain(items: Mapping[K, HasQuality], names: Mapping[K, str] | None = None) -> str:
    """One line: which copy is best and why each other copy lost."""
    order = rank(items)
    best = order[0]
    name = (names or {}).get
    if len(order) == 1:
        return f"only copy: {_describe(items[best])}"
    limit = band_limit([q.duration for q in items.values()])
    parts = [f"{name(k) or k}: {compare_reason(items[best], items[k], limit)}" for k in order[1:]]
    return f"best of {len(order)}: {_describe(items[best])}; beats " + "; ".join(parts)
