"""Stand-in Reddit: OAuth2 application-only tokens, r/soccer listings and Reddit-hosted video.

Routes, in Reddit's shapes:

* ``POST /api/v1/access_token`` - HTTP basic with the app's id and secret,
  ``grant_type=client_credentials``; answers ``{"access_token", "token_type": "bearer",
  "expires_in", "scope": "*"}`` (a wrong secret: 401).
* ``GET /r/soccer/new`` and ``GET /r/soccer/search`` (``q``, ``restrict_sr``, ``sort=new``,
  ``t``) - a ``Listing`` of ``t3`` children, newest first, ``limit`` (default 25, at most
  100), ``after``/``before`` paging by fullname; bearer token and a descriptive User-Agent
  required (a generic agent is answered 429, as Reddit throttles it); ``X-Ratelimit-Used``,
  ``-Remaining`` and ``-Reset`` on every answer.
* ``GET /reddit-video/{post id}/DASHPlaylist.mpd``, ``DASH_{height}.mp4`` (video only) and
  ``DASH_AUDIO_128.mp4`` (AAC only): the clip as Reddit serves it, an on-demand DASH
  manifest over whole files with their ``sidx`` index, byte ranges supported.

Posts come from the scenario: a goal event's ``"reddit": [...]``::

    "reddit": [{
      "id": "1h2x3y1",                 # base36 post id, unique
      "after": 40,                     # posted this many scenario seconds after the goal
                                       #   (or "t": absolute)
      "title": "...",                  # optional; default the r/soccer convention, built
                                       #   from the scenario: "Home [1] - 0 Away - Scorer 23'"
      "host": "reddit",                # "reddit" (DASH video) or "link" (no video: a blog)
      "score": 120, "comments": 40,    # optional
      "video": {...}                   # ClipSpec fields, as for X clips
    }]

and every fixture gets its "Match Thread" at kick-off, which is never a goal post.

Settings: ``reddit_client_id`` / ``reddit_client_secret`` (expected credentials; null = any
non-empty), ``reddit_rate_limit`` (requests per window, default 1000) and
``reddit_rate_window`` (real seconds, default 600), ``reddit_media_base`` (default
``http://<Host header>``). Fault kinds (on the listing path): ``reddit_rate_limit`` (429 with
``X-Ratelimit-Reset`` = ``seconds``), ``reddit_bad_listing`` (a child without ``name``).
"""

from __future__ import annotations

import base64
import json
import math
import re
import secrets
import struct
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, fields
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from footy.errors import ConfigError
from footy.sources.query import fold
from footy_testbed.standin.media import clip_cache_dir, serve_bytes
from footy_testbed.standin.scenario import ScenarioEvent, ScenarioFixture
from footy_testbed.standin.server import (
    Fault,
    StandinRequest,
    StandinResponse,
    World,
    register,
    register_fault,
)

STATE_KEY = "reddit"
TOKEN_PATH = "/api/v1/access_token"
SUBREDDIT = "soccer"
LISTING_PREFIX = f"/r/{SUBREDDIT}/"
VIDEO_PREFIX = "/reddit-video/"
TOKEN_LIFETIME = 86_400
DEFAULT_RATE_LIMIT = 1000
DEFAULT_RATE_WINDOW = 600.0
AUDIO_FILE = "DASH_AUDIO_128.mp4"
_ID = re.compile(r"^[0-9a-z]{1,13}$")
_GENERIC_AGENT = re.compile(r"^(python-requests|curl|wget|python-urllib)\b", re.I)
_VIDEO_PATH = re.compile(r"^/reddit-video/(?P<id>[0-9a-z]+)/(?P<file>[A-Za-z0-9_.]+)$")
_dash_locks: dict[str, threading.Lock] = {}
_dash_locks_guard = threading.Lock()


@dataclass(frozen=True)
class RedditPost:
    id: str
    t: float
    title: str
    host: str  # "reddit" | "link" | "self"
    score: int
    comments: int
    video: dict[str, Any] | None

    @property
    def name(self) -> str:
        return f"t3_{self.id}"

    @property
    def number(self) -> int:
        return int(self.id, 36)

    def clip_spec(self) -> Any:
        from footy_testbed.clipgen import ClipSpec

        return ClipSpec(**(self.video or {}))


# ---- the scenario's posts --------------------------------------------------------------------


def _minute(state: dict[str, Any]) -> str:
    extra = state.get("extra")
    return f"{state.get('elapsed')}+{extra}'" if extra else f"{state.get('elapsed')}'"


def goal_title(fixture: ScenarioFixture, event: ScenarioEvent) -> str:
    """The r/soccer title of a goal: brackets on the side that scored, the score after it."""
    final = dict(event.data)
    for _, patch in event.changes:
        final.update(patch)
    home = away = 0
    scored_home = True
    for other in fixture.events:  # goals in the order they happened, up to this one
        state = dict(other.data)
        if state.get("type") != "Goal" or state.get("detail") == "Missed Penalty" \
                or other.remove_at is not None \
                or "shootout" in str(state.get("comments") or "").lower():  # fmt: skip
            continue  # a disallowed goal or a shoot-out kick never changes the score
        if (other.t, other.index) > (event.t, event.index):
            continue
        is_home = fixture.team(state.get("team")) == fixture.home
        home, away = home + is_home, away + (not is_home)
        if other is event:
            scored_home = is_home
    hs, as_ = (f"[{home}]", str(away)) if scored_home else (str(home), f"[{away}]")
    scorer = str((final.get("player") or {}).get("name") or "Unknown")
    marker = " (pen)" if final.get("detail") == "Penalty" else (
        " OG" if final.get("detail") == "Own Goal" else "")  # fmt: skip
    return (f"{fixture.home['name']} {hs} - {as_} {fixture.away['name']} - "
            f"{scorer}{marker} {_minute(final)}")  # fmt: skip


def _clipspec_fields() -> set[str]:
    from footy_testbed.clipgen import ClipSpec

    return {f.name for f in fields(ClipSpec)}


def _parse_post(raw: Any, where: str, fixture: ScenarioFixture, event: ScenarioEvent,
                spec_fields: set[str]) -> RedditPost:  # fmt: skip
    if not isinstance(raw, dict):
        raise ConfigError(f"scenario: {where} is not an object")
    post_id = raw.get("id")
    if not isinstance(post_id, str) or not _ID.match(post_id):
        raise ConfigError(f"scenario: {where}.id must be a base36 post id, got {post_id!r}")
    if "t" in raw:
        t = float(raw["t"])
    elif "after" in raw:
        t = event.t + float(raw["after"])
    else:
        raise ConfigError(f"scenario: {where} needs 't' (posted at) or 'after'")
    host = str(raw.get("host", "reddit"))
    if host not in {"reddit", "link"}:
        raise ConfigError(f"scenario: {where}.host must be 'reddit' or 'link', got {host!r}")
    video = raw.get("video")
    if host == "reddit":
        if not isinstance(video, dict) or "scene" not in video or set(video) - spec_fields:
            raise ConfigError(f"scenario: {where}.video must be ClipSpec fields with 'scene'")
    return RedditPost(id=post_id, t=t, title=str(raw.get("title") or goal_title(fixture, event)),
                      host=host, score=int(raw.get("score", 50)),
                      comments=int(raw.get("comments", 10)),
                      video=dict(video) if host == "reddit" else None)  # fmt: skip


def scenario_posts(world: World) -> list[RedditPost]:
    """Every post of the scenario, oldest first (parsed once per world)."""
    with world.lock:
        state = world.state.setdefault(STATE_KEY, {})
        if "posts" in state:
            return state["posts"]
        posts: list[RedditPost] = []
        spec_fields: set[str] | None = None
        for number, fixture in enumerate(world.scenario.fixtures):
            posts.append(RedditPost(
                id=f"mt{number:x}", t=fixture.kickoff, host="self", score=300, comments=5000,
                title=f"Match Thread: {fixture.home['name']} vs {fixture.away['name']} | "
                      f"{fixture.league.get('name', 'League')}", video=None))  # fmt: skip
            for event in fixture.events:
                for i, raw in enumerate(event.data.get("reddit") or []):
                    spec_fields = spec_fields or _clipspec_fields()
                    where = f"fixture {fixture.id} event {event.key} reddit[{i}]"
                    posts.append(_parse_post(raw, where, fixture, event, spec_fields))
        ids = [p.id for p in posts]
        if len(set(ids)) != len(ids):
            raise ConfigError("scenario: reddit post ids are not unique")
        posts.sort(key=lambda p: (p.t, p.number))
        state["posts"] = posts
        return posts


def find_post(world: World, post_id: str) -> RedditPost | None:
    return next((p for p in scenario_posts(world) if p.id == post_id), None)


# ---- OAuth -----------------------------------------------------------------------------------


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> StandinResponse:
    return StandinResponse.json_body({"message": message, "error": status}, status, headers)


def access_token(req: StandinRequest) -> StandinResponse:
    world = req.world
    auth = req.headers.get("authorization", "")
    try:
        client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":") \
            if auth.lower().startswith("basic ") else ("", "", "")  # fmt: skip
    except ValueError:
        client_id = secret = ""
    expected_id = world.settings.get("reddit_client_id")
    expected_secret = world.settings.get("reddit_client_secret")
    if not client_id or not secret or (expected_id is not None and client_id != expected_id) \
            or (expected_secret is not None and secret != expected_secret):  # fmt: skip
        return _error(401, "Unauthorized")
    form = parse_qs(req.body.decode(errors="replace"))
    if form.get("grant_type") != ["client_credentials"]:
        return StandinResponse.json_body({"error": "unsupported_grant_type"}, 400)
    token = secrets.token_urlsafe(24)
    with world.lock:
        world.state.setdefault(STATE_KEY, {}).setdefault("tokens", {})[token] = (
            time.time() + TOKEN_LIFETIME)
    return StandinResponse.json_body({"access_token": token, "token_type": "bearer",
                                      "expires_in": TOKEN_LIFETIME, "scope": "*"})  # fmt: skip


def _token_valid(world: World, auth: str) -> bool:
    if not auth.lower().startswith("bearer "):
        return False
    with world.lock:
        expires = world.state.setdefault(STATE_KEY, {}).get("tokens", {}).get(auth[7:].strip())
    return expires is not None and expires > time.time()


def _rate_window(world: World) -> dict[str, str]:
    """Count this request; Reddit's three headers for the current window."""
    limit = int(world.settings.get("reddit_rate_limit") or DEFAULT_RATE_LIMIT)
    window = float(world.settings.get("reddit_rate_window") or DEFAULT_RATE_WINDOW)
    used, start = world.count_request(STATE_KEY, window)
    return {"X-Ratelimit-Used": str(used), "X-Ratelimit-Remaining": f"{max(limit - used, 0):.1f}",
            "X-Ratelimit-Reset": str(max(0, math.ceil(start + window - time.time())))}  # fmt: skip


# ---- listings --------------------------------------------------------------------------------


def _media_base(req: StandinRequest) -> str:
    base = req.world.settings.get("reddit_media_base")
    return str(base).rstrip("/") if base else f"http://{req.headers.get('host', '127.0.0.1')}"


def _slug(title: str) -> str:
    return "_".join(re.findall(r"[a-z0-9]+", fold(title)))[:50] or "post"


def _child(post: RedditPost, world: World, base: str) -> dict[str, Any]:
    created = (world.base_time + timedelta(seconds=post.t)).timestamp()
    permalink = f"/r/{SUBREDDIT}/comments/{post.id}/{_slug(post.title)}/"
    data: dict[str, Any] = {
        "id": post.id, "name": post.name, "title": post.title, "subreddit": SUBREDDIT,
        "subreddit_name_prefixed": f"r/{SUBREDDIT}", "author": "goal_poster",
        "created_utc": created, "created": created, "permalink": permalink,
        "score": post.score, "ups": post.score, "num_comments": post.comments,
        "over_18": False, "spoiler": False, "stickied": False, "locked": False,
        "is_self": post.host == "self", "selftext": "", "is_video": post.host == "reddit",
        "link_flair_text": "Media" if post.host != "self" else "Match Thread",
        "media": None, "secure_media": None, "crosspost_parent_list": [],
    }  # fmt: skip
    if post.host == "self":
        data.update(url=f"https://www.reddit.com{permalink}", domain=f"self.{SUBREDDIT}")
    elif post.host == "link":
        data.update(url=f"https://example.org/goal-{post.id}.html", domain="example.org")
    else:
        spec = post.clip_spec()
        folder = f"{base}{VIDEO_PREFIX}{post.id}"
        video = {
            "bitrate_kbps": int(spec.bitrate_kbps), "has_audio": True, "is_gif": False,
            "height": int(spec.height), "width": int(spec.width),
            "duration": int(round(spec.duration)),
            "fallback_url": f"{folder}/DASH_{int(spec.height)}.mp4?source=fallback",
            "dash_url": f"{folder}/DASHPlaylist.mpd?a=1&v=1&f=sd",
            "hls_url": f"{folder}/HLSPlaylist.m3u8?a=1&v=1&f=sd",
            "scrubber_media_url": f"{folder}/DASH_96.mp4", "transcoding_status": "completed",
        }  # fmt: skip
        media = {"reddit_video": video}
        data.update(url=f"https://v.redd.it/{post.id}", domain="v.redd.it", media=media,
                    secure_media=media)  # fmt: skip
    return {"kind": "t3", "data": data}


def _listing(req: StandinRequest, posts: list[RedditPost],
             headers: dict[str, str]) -> StandinResponse:  # fmt: skip
    """``posts`` newest first, paged by ``after``/``before`` fullnames as Reddit pages."""
    raw_limit = req.query.get("limit", "25")
    limit = min(max(int(raw_limit), 1), 100) if raw_limit.isdigit() else 25
    names = [p.name for p in posts]
    start = 0
    if req.query.get("after"):
        if req.query["after"] not in names:
            posts = []
        else:
            start = names.index(req.query["after"]) + 1
    elif req.query.get("before"):
        end = names.index(req.query["before"]) if req.query["before"] in names else 0
        start = max(0, end - limit)
        posts = posts[:end]
    page = posts[start : start + limit]
    more_after = start + limit < len(posts)
    base = _media_base(req)
    body = {"kind": "Listing", "data": {
        "after": page[-1].name if page and more_after else None,
        "before": page[0].name if page and start > 0 else None,
        "dist": len(page), "modhash": "", "geo_filter": "",
        "children": [_child(p, req.world, base) for p in page]}}  # fmt: skip
    return StandinResponse.json_body(body, 200, headers)


def _visible(world: World) -> list[RedditPost]:
    now = world.now()
    return sorted((p for p in scenario_posts(world) if p.t <= now),
                  key=lambda p: (p.t, p.number), reverse=True)  # fmt: skip


def _search_words(q: str) -> list[str]:
    return [fold(a or b) for a, b in re.findall(r'"([^"]+)"|(\S+)', q) if (a or b)]


def listing(req: StandinRequest) -> StandinResponse:
    world = req.world
    if not _token_valid(world, req.headers.get("authorization", "")):
        return _error(401, "Unauthorized")
    agent = req.headers.get("user-agent", "")
    if not agent.strip() or _GENERIC_AGENT.match(agent):
        return _error(429, "Too Many Requests", {"X-Ratelimit-Reset": "60"})
    headers = _rate_window(world)
    if int(headers["X-Ratelimit-Used"]) > int(
            world.settings.get("reddit_rate_limit") or DEFAULT_RATE_LIMIT):  # fmt: skip
        return _error(429, "Too Many Requests", headers)
    posts = _visible(world)
    what = req.path[len(LISTING_PREFIX):].strip("/")
    if what == "new":
        return _listing(req, posts, headers)
    if what == "search":
        words = _search_words(req.query.get("q", ""))
        if not words:
            return _error(400, "q is required")
        day_ago = world.now() - 86_400
        hits = [p for p in posts if p.t >= day_ago and all(w in fold(p.title) for w in words)]
        return _listing(req, hits, headers)
    return _error(404, "Not Found")


# ---- Reddit-hosted video: DASH over whole files ----------------------------------------------


def _box_offsets(data: bytes) -> dict[str, tuple[int, int]]:
    """Top-level MP4 boxes: type -> (offset, size) of the first of each."""
    boxes: dict[str, tuple[int, int]] = {}
    offset = 0
    while offset + 8 <= len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        if size < 8:
            break
        boxes.setdefault(kind.decode("latin-1"), (offset, size))
        offset += size
    return boxes


def _segment_base(path: Path) -> str:
    boxes = _box_offsets(path.read_bytes())
    sidx_at, sidx_size = boxes["sidx"]
    return (f'<SegmentBase indexRange="{sidx_at}-{sidx_at + sidx_size - 1}" '
            f'indexRangeExact="true"><Initialization range="0-{sidx_at - 1}"/></SegmentBase>')


def _manifest(folder: Path, spec: Any, video_file: str) -> str:
    duration = f"PT{float(spec.duration):.3f}S"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" minBufferTime="PT1.500S" type="static" \
mediaPresentationDuration="{duration}" profiles="urn:mpeg:dash:profile:isoff-on-demand:2011">
  <Period duration="{duration}">
    <AdaptationSet segmentAlignment="true" subsegmentAlignment="true" \
subsegmentStartsWithSAP="1" maxWidth="{spec.width}" maxHeight="{spec.height}" \
maxFrameRate="{spec.fps:g}" par="16:9">
      <Representation id="VIDEO-1" mimeType="video/mp4" codecs="avc1.64001f" \
width="{spec.width}" height="{spec.height}" frameRate="{spec.fps:g}" sar="1:1" \
startWithSAP="1" bandwidth="{int(spec.bitrate_kbps) * 1000}">
        <BaseURL>{video_file}</BaseURL>
        {_segment_base(folder / video_file)}
      </Representation>
    </AdaptationSet>
    <AdaptationSet segmentAlignment="true" subsegmentAlignment="true" \
subsegmentStartsWithSAP="1">
      <Representation id="AUDIO-1" mimeType="audio/mp4" codecs="mp4a.40.2" \
bandwidth="128000" audioSamplingRate="48000">
        <AudioChannelConfiguration \
schemeIdUri="urn:mpeg:dash:23003:3:audio_channel_configuration:2011" value="2"/>
        <BaseURL>{AUDIO_FILE}</BaseURL>
        {_segment_base(folder / AUDIO_FILE)}
      </Representation>
    </AdaptationSet>
  </Period>
</MPD>
"""


def dash_folder(post: RedditPost) -> Path:
    """The post's DASH files, made once: the rendered clip as a video-only file with its
    index, a separate AAC track, and the manifest over both."""
    from footy_testbed.clipgen import render_cached

    spec = post.clip_spec()
    cache = clip_cache_dir()
    folder = cache / f"reddit-{spec.digest()}"
    if (folder / "DASHPlaylist.mpd").exists():
        return folder
    with _dash_locks_guard:
        lock = _dash_locks.setdefault(spec.digest(), threading.Lock())
    with lock:
        if (folder / "DASHPlaylist.mpd").exists():
            return folder
        clip = render_cached(spec, cache)
        video_file = f"DASH_{int(spec.height)}.mp4"
        with tempfile.TemporaryDirectory(prefix=".tmp-dash-", dir=cache) as tmp_name:
            tmp = Path(tmp_name)
            subprocess.run(
                ["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-i", str(clip),
                 "-f", "lavfi", "-i", f"sine=frequency=440:sample_rate=48000:"
                 f"duration={float(spec.duration):.3f}",
                 "-map", "0:v", "-map", "1:a", "-c:v", "copy", "-c:a", "aac", "-b:a", "128k",
                 "-ac", "2", "-f", "dash", "-single_file", "1", "-global_sidx", "1",
                 "-single_file_name", "stream$RepresentationID$.mp4",
                 "-adaptation_sets", "id=0,streams=v id=1,streams=a", str(tmp / "ffmpeg.mpd")],
                check=True, capture_output=True, timeout=120,
            )  # fmt: skip
            (tmp / "stream0.mp4").rename(tmp / video_file)
            (tmp / "stream1.mp4").rename(tmp / AUDIO_FILE)
            (tmp / "ffmpeg.mpd").unlink()
            (tmp / "DASHPlaylist.mpd").write_text(_manifest(tmp, spec, video_file))
            if folder.exists():  # an earlier attempt died half-way
                for stale in folder.iterdir():
                    stale.unlink()
                folder.rmdir()
            tmp.rename(folder)
            tmp.mkdir()  # for TemporaryDirectory's cleanup
    return folder


def serve_video(req: StandinRequest) -> StandinResponse:
    match = _VIDEO_PATH.match(req.path)
    post = find_post(req.world, match["id"]) if match else None
    if match is None or post is None or post.host != "reddit":
        return _error(404, "Not Found")
    folder = dash_folder(post)
    name = match["file"]
    if name not in {"DASHPlaylist.mpd", AUDIO_FILE, f"DASH_{int(post.clip_spec().height)}.mp4"}:
        return _error(404, "Not Found")  # HLS and the scrubber are not served here
    content_type = "application/dash+xml" if name.endswith(".mpd") else "video/mp4"
    return serve_bytes(req, (folder / name).read_bytes(), content_type)


# ---- faults ----------------------------------------------------------------------------------


def _fault_rate_limit(req: StandinRequest, fault: Fault) -> StandinResponse:
    return _error(429, "Too Many Requests", {
        "X-Ratelimit-Used": "1000", "X-Ratelimit-Remaining": "0.0",
        "X-Ratelimit-Reset": str(int(fault.seconds))})  # fmt: skip


def _fault_bad_listing(req: StandinRequest, fault: Fault) -> StandinResponse:
    resp = listing(req)
    if resp.status != 200:
        return resp
    body = json.loads(resp.body)
    children = body["data"]["children"] or [{"kind": "t3", "data": {"id": "zz", "title": "x"}}]
    children[-1]["data"].pop("name", None)
    body["data"]["children"] = children
    return StandinResponse.json_body(body, 200, resp.headers)


register("POST", TOKEN_PATH, access_token)
register("GET", LISTING_PREFIX, listing)
register("GET", VIDEO_PREFIX, serve_video)
register("HEAD", VIDEO_PREFIX, serve_video)
register_fault("reddit_rate_limit", _fault_rate_limit)
register_fault("reddit_bad_listing", _fault_bad_listing)
