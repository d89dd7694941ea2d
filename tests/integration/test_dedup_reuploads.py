"""Dedup decisions on re-uploads of one broadcast (``footy_testbed.reuploads``): the keeper
of a watermarked letterbox copy, and what mirrored and speed-changed copies are."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from footy.dedup import cluster, fingerprint, match
from footy_testbed.broadcast import Source
from footy_testbed.reuploads import Reupload, reference, render

pytestmark = pytest.mark.integration

MAIN = Source(match=7, goal=0, angle=0)
REPLAY = Source(match=106, goal=0, angle=2)
CLIPS = {
    "clean": reference(MAIN),  # 720p, 3 Mbit/s
    # 720p picture in a 4:3 frame, an uploader's watermark strip inside the top bar
    "watermarked": Reupload(MAIN, families=("bars", "overlay"), start=1.0, end=12.0,
                            bars="letterbox", logo="wm", bitrate_kbps=1500),
    # the same letterbox, with a caption band laid across the bottom bar and into the picture
    "captioned": Reupload(MAIN, families=("bars", "overlay"), start=1.0, end=12.0,
                          bars="letterbox", caption=0.14, bitrate_kbps=1500),
    # the picture at 85 % over a blurred copy of itself, at a higher bitrate than the clean one
    "bordered": Reupload(MAIN, families=("overlay",), start=1.0, end=12.0, border=0.85,
                         bitrate_kbps=4500),
    "mirrored": Reupload(MAIN, start=1.0, end=12.0, mirror=True),
    "slow_motion": Reupload(MAIN, start=4.0, end=9.0, speed=0.5),
    "sped_up": Reupload(MAIN, start=0.0, end=13.0, speed=1.25),
    # a replay whose two re-uploads only match when each frame's mate is allowed to be a
    # sample or two off: stretched back from a two-edge crop, and colour graded
    "replay_logo": Reupload(REPLAY, families=("overlay",), start=1.1093, end=11.5406, logo="bl",
                            bitrate_kbps=3603),
    "replay_stretched": Reupload(REPLAY, families=("crop", "colour"), start=0.4461,
                                 end=12.8445,
                                 crop=(0.0, 0.0, 0.0571, 0.0841), colour=(-0.009, 0.962, 1.185),
                                 bitrate_kbps=1705),
}  # fmt: skip


@pytest.fixture(scope="module")
def prints(tmp_path_factory):
    cache = Path(os.environ.get("FOOTY_CLIP_CACHE") or tmp_path_factory.mktemp("reuploads"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        paths = dict(zip(CLIPS, pool.map(lambda r: render(r, cache), CLIPS.values()), strict=True))
    return {name: fingerprint(path) for name, path in paths.items()}


def test_a_watermark_in_the_letterbox_bar_does_not_win_the_keeper(prints):
    wm = prints["watermarked"]
    assert (wm.eff_width, wm.eff_height) == (1280, 720), wm.bars  # the bars are seen
    clusters = cluster({k: prints[k] for k in ("clean", "watermarked")})
    assert [c.members for c in clusters] == [["clean", "watermarked"]], [c.why for c in clusters]
    assert clusters[0].keeper == "clean"
    assert "lower bitrate" in clusters[0].why


def test_a_caption_across_a_letterbox_bar_does_not_make_the_copy_look_larger(prints):
    cap = prints["captioned"]
    assert (cap.width, cap.height) == (1280, 960)
    # the bottom bar is under the caption, yet the picture is still 720 rows, not 840
    assert cap.eff_width == 1280 and abs(cap.eff_height - 720) <= 8, (cap.eff_height, cap.bars)
    clusters = cluster({k: prints[k] for k in ("clean", "captioned")})
    assert [c.members for c in clusters] == [["clean", "captioned"]], [c.why for c in clusters]
    assert clusters[0].keeper == "clean"


def test_a_border_reupload_counts_only_its_inner_picture(prints):
    clean, bordered = prints["clean"], prints["bordered"]
    assert (clean.eff_width, clean.eff_height) == (1280, 720)
    assert (bordered.width, bordered.height) == (1280, 720)
    assert 0.80 * 1280 <= bordered.eff_width <= 0.92 * 1280, bordered.eff_width
    assert 0.80 * 720 <= bordered.eff_height <= 0.92 * 720, bordered.eff_height
    clusters = cluster({k: prints[k] for k in ("clean", "bordered")})
    assert [c.members for c in clusters] == [["clean", "bordered"]], [c.why for c in clusters]
    assert clusters[0].keeper == "clean"
    assert "lower effective resolution" in clusters[0].why


def test_a_stretched_colour_graded_copy_matches_a_logo_copy_of_the_same_replay(prints):
    result = match(prints["replay_logo"], prints["replay_stretched"])
    assert result.matched, result.why()
    assert result.verification is not None and result.verification.scale[0] > 1.1


@pytest.mark.parametrize("name", ["mirrored", "slow_motion", "sped_up"])
def test_mirrored_and_speed_changed_copies_are_distinct_clips(prints, name):
    result = match(prints["clean"], prints[name])
    assert not result.matched, result.why()
    assert len(cluster({k: prints[k] for k in ("clean", name)})) == 2
    if name != "mirrored":
        assert "another speed" in result.why()
