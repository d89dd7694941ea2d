"""Metadata gates: reason codes for search metadata and for downloaded-file numbers."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from footy.sources.base import Candidate
from footy.sources.gates import (
    LOW_RESOLUTION,
    NO_MP4_VARIANT,
    NOT_BROADCAST_ASPECT,
    PORTRAIT,
    POSTED_BEFORE_GOAL,
    TOO_LONG,
    TOO_SHORT,
    TRUNCATED_ID,
    GateConfig,
    check,
    check_dimensions,
)

GOAL_TIME = datetime(2026, 3, 14, 15, 23, 0, tzinfo=UTC)

GOOD = Candidate(
    source="x",
    source_id="1900000000000000001",
    post_url="https://x.com/i/status/1900000000000000001",
    media_url="http://media/1900000000000000001.mp4",
    posted_at=GOAL_TIME + timedelta(seconds=90),
    width=1280,
    height=720,
    duration_s=24.5,
    bitrate=2_176_000,
    text="Semenyo!!",
    popularity=12,
)


def test_good_candidate_accepted() -> None:
    assert check(GOOD, GOAL_TIME) == []


@pytest.mark.parametrize(
    ("width", "height", "duration", "reasons"),
    [
        (1280, 720, 2.9, [TOO_SHORT]),
        (1280, 720, 3.0, []),
        (1280, 720, 90.0, []),
        (1280, 720, 91.0, [TOO_LONG]),
        (720, 1280, 20.0, [PORTRAIT]),
        (480, 854, 20.0, [PORTRAIT, LOW_RESOLUTION]),
        (1080, 1080, 20.0, [NOT_BROADCAST_ASPECT]),
        (960, 720, 20.0, [NOT_BROADCAST_ASPECT]),  # 4:3
        (1920, 800, 20.0, [NOT_BROADCAST_ASPECT]),  # 2.4:1 cinema
        (1920, 1080, 20.0, []),
        (1024, 576, 20.0, [LOW_RESOLUTION]),
        (640, 360, 2.0, [TOO_SHORT, LOW_RESOLUTION]),
        (None, None, None, []),  # unknown numbers are not judged
        (1280, None, 20.0, []),
    ],
)
def test_check_dimensions(width, height, duration, reasons) -> None:
    assert check_dimensions(width, height, duration, GateConfig()) == reasons


def test_check_dimensions_usable_on_file_numbers_with_custom_config() -> None:
    cfg = GateConfig(min_short_edge=360, max_duration_s=120.0)
    assert check_dimensions(640, 360, 100.0, cfg) == []


def test_posted_before_goal_with_grace() -> None:
    cfg = GateConfig(posted_grace=timedelta(seconds=30))
    assert check(replace(GOOD, posted_at=GOAL_TIME - timedelta(seconds=29)), GOAL_TIME, cfg) == []
    early = replace(GOOD, posted_at=GOAL_TIME - timedelta(seconds=31))
    assert check(early, GOAL_TIME, cfg) == [POSTED_BEFORE_GOAL]


@pytest.mark.parametrize("tid", ["19000000000000001", "19000000000000000001", "12345", "19x0"])
def test_truncated_ids(tid: str) -> None:
    assert check(replace(GOOD, source_id=tid), GOAL_TIME) == [TRUNCATED_ID]


def test_id_rule_is_per_source() -> None:
    assert check(replace(GOOD, source="other", source_id="42"), GOAL_TIME) == []


def test_missing_media_url() -> None:
    assert check(replace(GOOD, media_url=""), GOAL_TIME) == [NO_MP4_VARIANT]


def test_all_reasons_reported() -> None:
    bad = replace(
        GOOD,
        source_id="123",
        posted_at=GOAL_TIME - timedelta(hours=1),
        width=720,
        height=1280,
        duration_s=200.0,
    )
    assert check(bad, GOAL_TIME) == [TRUNCATED_ID, POSTED_BEFORE_GOAL, TOO_LONG, PORTRAIT]


def test_candidate_document_round_trip() -> None:
    doc = GOOD.to_document()
    assert doc["posted_at"].tzinfo is not None
    assert all(isinstance(k, str) for k in doc)
    naive = dict(doc, posted_at=doc["posted_at"].replace(tzinfo=None))  # as pymongo returns it
    assert Candidate.from_document(naive) == GOOD


def test_candidate_requires_aware_time() -> None:
    with pytest.raises(ValueError):
        replace(GOOD, posted_at=datetime(2026, 1, 1))
