"""Stand-in X API v2: ``GET /2/tweets/search/recent`` served from the scenario's goal clips.

Clip format: each goal event of the scenario may carry ``"clips": [...]``::

    "clips": [{
      "id": "1900000000000000001",   # tweet id (string; 18-19 digits is valid, fewer or
                                     #   more simulates a truncated link)
      "t": 150,                      # posted at scenario seconds (absolute) ...
      "after": 30,                   # ... or seconds after the goal event's "t" (one of them)
      "text": "GOAL! Haaland makes it 1-0",   # optional; default "<scorer> goal"
      "width": 1280, "height": 720,  # advertised media size (default: the video's coded size)
      "duration": 8.0,               # advertised seconds (default: video.duration)
      "bitrate": 2500000,            # advertised bits/s of the best MP4 (default:
                                     #   video.bitrate_kbps * 1000)
      "media_type": "video",         # optional: "video" | "animated_gif" | "photo"
      "mp4": true,                   # optional: false = only an HLS playlist variant
      "likes": 10, "retweets": 2, "replies": 0, "quotes": 0,   # optional public_metrics
      "lang": "en",                  # optional
      "video": {"scene": 1, "angle": 0, "start": 0.0, "duration": 8.0, "width": 1280,
                "height": 720, "fps": 30.0, "bitrate_kbps": 2500, "letterbox": false,
                "crop": 0.0, "logo": false, "mirror": false}  # footy_testbed.clipgen.ClipSpec
    }]

A clip is returned once scenario time >= its posted time, newest first. The query matches
loosely: any term of the first OR-group (the scorer terms of a footy query; bare words
otherwise) appears in the goal's scorer name or the clip's text, case- and accent-
insensitively. ``start_time``, ``end_time``, ``since_id``, ``until_id``, ``max_results``
(10-100) and ``next_token`` behave as on X. ``has:videos`` keeps video/animated_gif posts.

Media variants point at ``{server}/media/{tweet_id}.mp4`` (best; served by the media host,
not this module), ``{server}/media/{tweet_id}.mp4?bitrate=<low>`` and an ``.m3u8`` playlist.
Use :func:`find_clip` (by tweet id) and :meth:`XClip.clip_spec` to render a clip's video.

Settings (scenario ``settings`` or ``start_in_thread(settings=...)``):
``x_bearer_token`` (expected token; null = any non-empty bearer), ``x_page_size`` (caps a
page below ``max_results`` to exercise pagination), ``x_rate_limit`` (requests per window,
default 450), ``x_rate_window`` (real seconds, default 900), ``x_media_base`` (media URL
base; default ``http://<Host header>``).

Fault kinds (``POST /_standin/faults`` with ``"path": "/2/tweets/search/recent"``):
``x_rate_limit`` (429 with ``x-rate-limit-reset`` = now + ``seconds``), ``x_missing_id``,
``x_missing_media_key``, ``x_bad_variants`` (a normal page with that defect), plus the
generic kinds of the server (``"500"``, ``"timeout"``, ``"reset"``, ...).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import time
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

from footy.errors import ConfigError
from footy.sources.query import fold, parse_or_groups
from footy_testbed.standin.server import (
    Fault,
    StandinRequest,
    StandinResponse,
    World,
    register,
    register_fault,
)

SEARCH_PATH = "/2/tweets/search/recent"
STATE_KEY = "x_api"
MAX_QUERY_LENGTH = 512
DEFAULT_RATE_LIMIT = 450
DEFAULT_RATE_WINDOW = 900.0
MEDIA_TYPES = {"video", "animated_gif", "photo"}
_MEDIA_PREFIX = {"video": "7", "animated_gif": "16", "photo": "3"}


@dataclass(frozen=True)
class XClip:
    """One scenario clip, resolved: absolute posted time, advertised media numbers."""

    tweet_id: str
    t: float
    text: str
    scorer: str
    fixture_id: int
    event_key: str
    width: int
    height: int
    duration: float
    bitrate: int
    media_type: str
    mp4: bool
    lang: str
    metrics: dict[str, int]
    video: dict[str, Any]

    @property
    def media_key(self) -> str:
        return f"{_MEDIA_PREFIX[self.media_type]}_{self.tweet_id}"

    def clip_spec(self) -> Any:
        """The :class:`footy_testbed.clipgen.ClipSpec` of this clip's video (imports clipgen)."""
        from footy_testbed.clipgen import ClipSpec

        return ClipSpec(**self.video)


def _clipspec_fields() -> dict[str, Any]:
    from footy_testbed.clipgen import ClipSpec

    return {f.name: f.default for f in fields(ClipSpec)}


def _even(value: float) -> int:
    return max(2, int(round(value / 2.0)) * 2)


def _parse_clip(raw: Any, where: str, event_t: float, scorer: str, fixture_id: int,
                event_key: str, spec_defaults: dict[str, Any]) -> XClip:  # fmt: skip
    if not isinstance(raw, dict):
        raise ConfigError(f"scenario: {where} is not an object")
    tid = raw.get("id")
    if not isinstance(tid, str) or not tid.isdigit():
        raise ConfigError(f"scenario: {where}.id must be a string of digits, got {tid!r}")
    if "t" in raw:
        t = float(raw["t"])
    elif "after" in raw:
        t = event_t + float(raw["after"])
    else:
        raise ConfigError(f"scenario: {where} needs 't' (posted at) or 'after'")
    video = raw.get("video")
    if not isinstance(video, dict):
        raise ConfigError(f"scenario: {where}.video must be an object of ClipSpec fields")
    unknown = set(video) - set(spec_defaults)
    if unknown or "scene" not in video:
        raise ConfigError(
            f"scenario: {where}.video has unknown fields {sorted(unknown)} or lacks 'scene'"
        )
    spec = {**spec_defaults, **video}
    coded_w = int(spec["width"])
    coded_h = _even(coded_w * 3 / 4) if spec["letterbox"] else int(spec["height"])
    media_type = str(raw.get("media_type", "video"))
    if media_type not in MEDIA_TYPES:
        raise ConfigError(f"scenario: {where}.media_type {media_type!r} not in {MEDIA_TYPES}")
    return XClip(
        tweet_id=tid,
        t=t,
        text=str(raw.get("text") or f"{scorer} goal"),
        scorer=scorer,
        fixture_id=fixture_id,
        event_key=event_key,
        width=int(raw.get("width", coded_w)),
        height=int(raw.get("height", coded_h)),
        duration=float(raw.get("duration", spec["duration"])),
        bitrate=int(raw.get("bitrate", int(spec["bitrate_kbps"]) * 1000)),
        media_type=media_type,
        mp4=bool(raw.get("mp4", True)),
        lang=str(raw.get("lang", "en")),
        metrics={
            "retweet_count": int(raw.get("retweets", 0)),
            "reply_count": int(raw.get("replies", 0)),
            "like_count": int(raw.get("likes", 0)),
            "quote_count": int(raw.get("quotes", 0)),
            "bookmark_count": 0,
            "impression_count": 10 * int(raw.get("likes", 0)),
        },
        video=dict(video),
    )


def scenario_clips(world: World) -> list[XClip]:
    """All clips of the scenario (parsed once per world, validated against ClipSpec)."""
    with world.lock:
        state = world.state.setdefault(STATE_KEY, {})
        cached = state.get("clips")
        if cached is not None:
            return cached
        defaults: dict[str, Any] | None = None
        clips: list[XClip] = []
        seen: set[str] = set()
        for fx, ev in world.scenario.all_events():
            raw_clips = ev.data.get("clips") or []
            if not raw_clips:
                continue
            if defaults is None:
                defaults = _clipspec_fields()
            final = dict(ev.data)
            for _, patch in ev.changes:  # the scorer as finally known (a late correction)
                final.update(patch)
            player = final.get("player") or {}
            scorer = str(player.get("name") or "")
            for i, raw in enumerate(raw_clips):
                where = f"fixture {fx.id} event {ev.key} clips[{i}]"
                clip = _parse_clip(raw, where, ev.t, scorer, fx.id, ev.key, defaults)
                if clip.tweet_id in seen:
                    raise ConfigError(f"scenario: {where}.id {clip.tweet_id} is duplicated")
                seen.add(clip.tweet_id)
                clips.append(clip)
        state["clips"] = clips
        return clips


def find_clip(world: World, tweet_id: str) -> XClip | None:
    """The scenario clip with this tweet id (for the media host)."""
    for clip in scenario_clips(world):
        if clip.tweet_id == tweet_id:
            return clip
    return None


# ---- helpers ---------------------------------------------------------------------------------


def _iso_ms(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + (
        f"{moment.microsecond // 1000:03d}Z"
    )


def _parse_iso(value: str) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _invalid(message: str, parameter: str, value: str) -> StandinResponse:
    return StandinResponse.json_body(
        {
            "errors": [{"parameters": {parameter: [value]}, "message": message}],
            "title": "Invalid Request",
            "detail": "One or more parameters to your request was invalid.",
            "type": "https://api.twitter.com/2/problems/invalid-request",
        },
        400,
    )


def _unauthorized() -> StandinResponse:
    return StandinResponse.json_body(
        {"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
        401,
    )


def _too_many(reset_epoch: int, limit: int) -> StandinResponse:
    return StandinResponse.json_body(
        {"title": "Too Many Requests", "detail": "Too Many Requests", "type": "about:blank",
         "status": 429},
        429,
        {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": "0",
         "x-rate-limit-reset": str(reset_epoch)},
    )  # fmt: skip


def _rate_window(world: World) -> tuple[int, int, int]:
    """Count this request; ``(limit, remaining, reset_epoch)`` of the current window."""
    limit = int(world.settings.get("x_rate_limit") or DEFAULT_RATE_LIMIT)
    window = float(world.settings.get("x_rate_window") or DEFAULT_RATE_WINDOW)
    count, start = world.count_request(STATE_KEY, window)
    return limit, limit - count, math.ceil(start + window)


def _query_terms(query: str) -> list[str]:
    groups = parse_or_groups(query)
    if groups:
        return groups[0]
    return [w for w in query.split() if ":" not in w and not w.startswith("-") and w != "OR"]


def _matches(clip: XClip, terms: list[str]) -> bool:
    haystack = fold(clip.scorer) + "\n" + fold(clip.text)
    return any(fold(term) in haystack for term in terms if term)


def _encode_token(t: float, offset: int) -> str:
    raw = json.dumps({"t": t, "o": offset}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_token(token: str) -> tuple[float, int] | None:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        return float(data["t"]), int(data["o"])
    except (ValueError, KeyError, TypeError, binascii.Error):
        return None


def _media_base(req: StandinRequest) -> str:
    base = req.world.settings.get("x_media_base")
    if base:
        return str(base).rstrip("/")
    return f"http://{req.headers.get('host', '127.0.0.1')}"


def _media(clip: XClip, base: str) -> dict[str, Any]:
    item: dict[str, Any] = {"media_key": clip.media_key, "type": clip.media_type}
    if clip.media_type == "photo":
        item.update(width=clip.width, height=clip.height, url=f"{base}/media/{clip.tweet_id}.jpg")
        return item
    low = max(64_000, clip.bitrate // 4)
    variants: list[dict[str, Any]] = []
    if clip.mp4:
        variants.append({"bit_rate": low, "content_type": "video/mp4",
                         "url": f"{base}/media/{clip.tweet_id}.mp4?bitrate={low}"})  # fmt: skip
    variants.append(
        {"content_type": "application/x-mpegURL", "url": f"{base}/media/{clip.tweet_id}.m3u8"}
    )
    if clip.mp4:
        variants.append({"bit_rate": clip.bitrate, "content_type": "video/mp4",
                         "url": f"{base}/media/{clip.tweet_id}.mp4"})  # fmt: skip
    item.update(
        duration_ms=int(round(clip.duration * 1000)),
        width=clip.width,
        height=clip.height,
        preview_image_url=f"{base}/media/{clip.tweet_id}.jpg",
        variants=variants,
    )
    return item


def _tweet(clip: XClip, base_time: datetime) -> dict[str, Any]:
    return {
        "id": clip.tweet_id,
        "text": clip.text,
        "created_at": _iso_ms(base_time + timedelta(seconds=clip.t)),
        "lang": clip.lang,
        "edit_history_tweet_ids": [clip.tweet_id],
        "attachments": {"media_keys": [clip.media_key]},
        "public_metrics": dict(clip.metrics),
    }


# ---- the endpoint ----------------------------------------------------------------------------


def search_recent(req: StandinRequest) -> StandinResponse:
    world = req.world
    expected = world.settings.get("x_bearer_token")
    auth = req.headers.get("authorization", "")
    token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
    if not token or (expected is not None and token != expected):
        return _unauthorized()

    limit, remaining, reset = _rate_window(world)
    if remaining < 0:
        return _too_many(reset, limit)
    rate_headers = {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining),
                    "x-rate-limit-reset": str(reset)}  # fmt: skip

    query = req.query.get("query", "")
    if not query.strip():
        return _invalid("The `query` query parameter can not be empty", "query", query)
    if len(query) > MAX_QUERY_LENGTH:
        return _invalid(
            f"The `query` query parameter value [{query[:40]}...] is not between 1 and 512",
            "query",
            query,
        )
    raw_max = req.query.get("max_results", "10")
    if not raw_max.isdigit() or not 10 <= int(raw_max) <= 100:
        return _invalid(
            f"The `max_results` query parameter value [{raw_max}] is not between 10 and 100",
            "max_results",
            raw_max,
        )
    page_size = int(raw_max)
    if world.settings.get("x_page_size"):
        page_size = min(page_size, int(world.settings["x_page_size"]))

    bounds: dict[str, datetime] = {}
    for name in ("start_time", "end_time"):
        if name in req.query:
            parsed = _parse_iso(req.query[name])
            if parsed is None:
                return _invalid(f"Invalid {name} [{req.query[name]}]", name, req.query[name])
            bounds[name] = parsed
    for name in ("since_id", "until_id"):
        if name in req.query and not req.query[name].isdigit():
            return _invalid(f"Invalid {name} [{req.query[name]}]", name, req.query[name])

    t_now = world.now()
    offset = 0
    if "next_token" in req.query:
        decoded = _decode_token(req.query["next_token"])
        if decoded is None:
            return _invalid("Invalid next_token", "next_token", req.query["next_token"])
        t_now, offset = decoded

    terms = _query_terms(query)
    videos_only = "has:videos" in query.split()
    hits: list[XClip] = []
    for clip in scenario_clips(world):
        if clip.t > t_now or not _matches(clip, terms):
            continue
        if videos_only and clip.media_type == "photo":
            continue
        created = world.base_time + timedelta(seconds=clip.t)
        if "start_time" in bounds and created < bounds["start_time"]:
            continue
        if "end_time" in bounds and created > bounds["end_time"]:
            continue
        if "since_id" in req.query and int(clip.tweet_id) <= int(req.query["since_id"]):
            continue
        if "until_id" in req.query and int(clip.tweet_id) >= int(req.query["until_id"]):
            continue
        hits.append(clip)
    hits.sort(key=lambda c: (c.t, int(c.tweet_id)), reverse=True)  # newest first, as on X

    page = hits[offset : offset + page_size]
    meta: dict[str, Any] = {"result_count": len(page)}
    body: dict[str, Any] = {}
    if page:
        base = _media_base(req)
        body["data"] = [_tweet(c, world.base_time) for c in page]
        body["includes"] = {"media": [_media(c, base) for c in page]}
        meta["newest_id"] = page[0].tweet_id
        meta["oldest_id"] = page[-1].tweet_id
    if offset + page_size < len(hits):
        meta["next_token"] = _encode_token(t_now, offset + page_size)
    body["meta"] = meta
    return StandinResponse.json_body(body, 200, rate_headers)


# ---- X-specific faults -----------------------------------------------------------------------


def _fault_rate_limit(req: StandinRequest, fault: Fault) -> StandinResponse:
    limit = int(req.world.settings.get("x_rate_limit") or DEFAULT_RATE_LIMIT)
    return _too_many(math.ceil(time.time() + fault.seconds), limit)


def _defect(kind: str) -> Any:
    def build(req: StandinRequest, fault: Fault) -> StandinResponse:
        resp = search_recent(req)
        if resp.status != 200:
            return resp
        body = json.loads(resp.body)
        if "data" not in body:  # nothing to break: add one broken post
            body["data"] = [{"id": "1900000000000000000", "text": "x",
                             "created_at": _iso_ms(datetime.now(UTC)),
                             "attachments": {"media_keys": ["7_1900000000000000000"]}}]  # fmt: skip
            body["includes"] = {"media": [{"media_key": "7_1900000000000000000",
                                           "type": "video", "variants": []}]}  # fmt: skip
        if kind == "x_missing_id":
            body["data"][-1].pop("id", None)
        elif kind == "x_missing_media_key":
            body["includes"]["media"][-1].pop("media_key", None)
        elif kind == "x_bad_variants":
            body["includes"]["media"][-1]["variants"] = {"url": "not-a-list"}
        return StandinResponse.json_body(body, 200, resp.headers)

    return build


register("GET", SEARCH_PATH, search_recent)
register_fault("x_rate_limit", _fault_rate_limit)
for _kind in ("x_missing_id", "x_missing_media_key", "x_bad_variants"):
    register_fault(_kind, _defect(_kind))
