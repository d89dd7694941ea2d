"""Which clip a Reddit post carries, and listing validation, on payloads in Reddit's shape."""

from __future__ import annotations

from typing import Any

import pytest

from footy.errors import PayloadError
from footy.sources.reddit import _video_of, parse_listing, parse_rate_limit

REDDIT_VIDEO = {
    "bitrate_kbps": 2400, "fallback_url": "https://v.redd.it/abc123/DASH_720.mp4?source=fallback",
    "has_audio": True, "height": 720, "width": 1280,
    "dash_url": "https://v.redd.it/abc123/DASHPlaylist.mpd?a=1&v=1&f=sd", "duration": 31,
    "hls_url": "https://v.redd.it/abc123/HLSPlaylist.m3u8?a=1&v=1&f=sd", "is_gif": False,
    "transcoding_status": "completed",
}  # fmt: skip


def post(**data: Any) -> dict[str, Any]:
    return {"id": "1h2x3y4", "name": "t3_1h2x3y4", "title": "Arsenal [1] - 0 Chelsea - Saka 23'",
            "created_utc": 1764867000.0, "permalink": "/r/soccer/comments/1h2x3y4/x/",
            "url": "https://v.redd.it/abc123", "is_video": True, "media": None,
            "secure_media": None, **data}  # fmt: skip


def test_reddit_hosted_video_is_its_dash_manifest() -> None:
    found = _video_of(post(secure_media={"reddit_video": REDDIT_VIDEO}))
    assert found == (REDDIT_VIDEO["dash_url"], 1280, 720, 31.0, 2_400_000)


def test_a_crosspost_carries_its_parent_video() -> None:
    parent = post(media={"reddit_video": REDDIT_VIDEO})
    found = _video_of(post(url="/r/soccer/comments/1h2x3y4/", is_video=False,
                           crosspost_parent_list=[parent]))  # fmt: skip
    assert found is not None and found[0] == REDDIT_VIDEO["dash_url"]


def test_streamable_and_other_clip_hosts_are_the_link() -> None:
    embed = {"type": "streamable.com", "oembed": {"width": 1920, "height": 1080,
                                                  "provider_name": "Streamable"}}  # fmt: skip
    found = _video_of(post(url="https://streamable.com/e4xq9k", is_video=False,
                           secure_media=embed))  # fmt: skip
    assert found == ("https://streamable.com/e4xq9k", 1920, 1080, None, None)
    assert _video_of(post(url="https://streamin.one/v/9f3a", is_video=False)) is not None


def test_no_video_behind_a_blog_link_or_a_lookalike_host() -> None:
    assert _video_of(post(url="https://www.bbc.co.uk/sport/football/1", is_video=False)) is None
    assert _video_of(post(url="https://streamable.com.evil.example/x", is_video=False)) is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"kind": "t3"}, "kind"),
        ({"kind": "Listing", "data": {"children": "no"}}, "data.children"),
        ({"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {"id": "ab"}}]}},
         "data.children[0].data.name"),
        ({"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {
            "id": "ab", "name": "t3_zz", "title": "x", "created_utc": 1.0}}]}},
         "data.children[0].data.name"),
        ({"kind": "Listing", "data": {"children": [{"kind": "t3", "data": {
            "id": "ab", "name": "t3_ab", "title": "x", "created_utc": "yesterday"}}]}},
         "data.children[0].data.created_utc"),
    ],
)
def test_malformed_listings_name_the_field(body: dict[str, Any], field: str) -> None:
    with pytest.raises(PayloadError) as info:
        parse_listing(body)
    assert info.value.field == field


def test_listing_keeps_posts_and_skips_other_kinds() -> None:
    body = {"kind": "Listing", "data": {"after": "t3_1h2x3y4", "before": None, "children": [
        {"kind": "t1", "data": {"id": "c1"}}, {"kind": "t3", "data": post()}]}}
    listing = parse_listing(body)
    assert [p.name for p in listing.posts] == ["t3_1h2x3y4"] and listing.after == "t3_1h2x3y4"


def test_rate_limit_headers_are_floats_and_seconds() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 12, 5, 15, 0, tzinfo=UTC)
    rate = parse_rate_limit({"x-ratelimit-used": "12", "x-ratelimit-remaining": "588.0",
                             "x-ratelimit-reset": "341"}, now)  # fmt: skip
    assert (rate.limit, rate.remaining, rate.reset_at) == (600, 588,
                                                           now + timedelta(seconds=341))
    assert parse_rate_limit({}, now).remaining is None
