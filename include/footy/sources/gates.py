"""Metadata quality gates for clip candidates.

The same dimension rules run twice: on the numbers a source advertises (:func:`check`) and
later on the numbers measured from the downloaded file (:func:`check_dimensions`).
Each gate returns a list of stable reason codes; an empty list means accepted.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from footy.sources.base import Candidate

TOO_SHORT = "too_short"
TOO_LONG = "too_long"
PORTRAIT = "portrait"
NOT_BROADCAST_ASPECT = "not_broadcast_aspect"
LOW_RESOLUTION = "low_resolution"
INVALID_DIMENSIONS = "invalid_dimensions"
POSTED_BEFORE_GOAL = "posted_before_goal"
TRUNCATED_ID = "truncated_id"
NO_MP4_VARIANT = "no_mp4_variant"
NO_VIDEO = "no_video"

REASONS = frozenset(
    {
        TOO_SHORT,
        TOO_LONG,
        PORTRAIT,
        NOT_BROADCAST_ASPECT,
        LOW_RESOLUTION,
        INVALID_DIMENSIONS,
        POSTED_BEFORE_GOAL,
        TRUNCATED_ID,
        NO_MP4_VARIANT,
        NO_VIDEO,
    }
)


def _x_id_digits() -> dict[str, tuple[int, int]]:
    return {"x": (18, 19)}


@dataclass(frozen=True)
class GateConfig:
    """Thresholds. Broadcast landscape 16:9 is 1.78; phone recordings are portrait.

    ``id_digits`` maps a source name to the (min, max) digit count of a valid post id.
    """

    min_duration_s: float = 3.0
    max_duration_s: float = 90.0
    min_aspect: float = 1.70
    max_aspect: float = 1.85
    min_short_edge: int = 600
    posted_grace: timedelta = timedelta(seconds=60)
    id_digits: Mapping[str, tuple[int, int]] = field(default_factory=_x_id_digits)

    def __post_init__(self) -> None:
        if self.min_duration_s > self.max_duration_s:
            raise ValueError("min_duration_s > max_duration_s")
        if self.min_aspect > self.max_aspect:
            raise ValueError("min_aspect > max_aspect")


DEFAULT_GATES = GateConfig()


def check_dimensions(
    width: int | None,
    height: int | None,
    duration_s: float | None,
    cfg: GateConfig = DEFAULT_GATES,
) -> list[str]:
    """Reasons to reject a video of these dimensions; unknown values are not judged."""
    reasons: list[str] = []
    if duration_s is not None:
        if duration_s < cfg.min_duration_s:
            reasons.append(TOO_SHORT)
        elif duration_s > cfg.max_duration_s:
            reasons.append(TOO_LONG)
    if width is not None and height is not None:
        if width <= 0 or height <= 0:
            reasons.append(INVALID_DIMENSIONS)
            return reasons
        if height > width:
            reasons.append(PORTRAIT)
        else:
            aspect = width / height
            if not cfg.min_aspect <= aspect <= cfg.max_aspect:
                reasons.append(NOT_BROADCAST_ASPECT)
        if min(width, height) < cfg.min_short_edge:
            reasons.append(LOW_RESOLUTION)
    elif width is not None or height is not None:
        known = width if width is not None else height
        if known is not None and known <= 0:
            reasons.append(INVALID_DIMENSIONS)
    return reasons


_DIGITS = re.compile(r"^[0-9]+$")


def check_id(source: str, source_id: str, cfg: GateConfig = DEFAULT_GATES) -> list[str]:
    """``[truncated_id]`` when the source has an id rule and ``source_id`` breaks it."""
    bounds = cfg.id_digits.get(source)
    if bounds is None:
        return []
    low, high = bounds
    if not _DIGITS.match(source_id) or not low <= len(source_id) <= high:
        return [TRUNCATED_ID]
    return []


def check(candidate: Candidate, goal_time: datetime, cfg: GateConfig = DEFAULT_GATES) -> list[str]:
    """All reasons to reject ``candidate`` for a goal at ``goal_time`` (UTC aware)."""
    if goal_time.tzinfo is None:
        raise ValueError("goal_time must be timezone-aware")
    reasons = check_id(candidate.source, candidate.source_id, cfg)
    if not candidate.media_url:
        reasons.append(NO_MP4_VARIANT)
    if candidate.posted_at < goal_time - cfg.posted_grace:
        reasons.append(POSTED_BEFORE_GOAL)
    reasons.extend(check_dimensions(candidate.width, candidate.height, candidate.duration_s, cfg))
    return reasons
