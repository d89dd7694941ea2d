"""Stand-in clip host: ``GET /media/{tweet_id}.mp4`` serves the scenario clip's real H.264 file.

The X stand-in (:mod:`footy_testbed.standin.x_api`) advertises media variants at
``{server}/media/{tweet_id}.mp4`` (best) and ``{server}/media/{tweet_id}.mp4?bitrate=<b/s>``
(the low variant, re-encoded at that bitrate). This module renders them with
:func:`footy_testbed.clipgen.render_cached` into the clip cache (``$FOOTY_CLIP_CACHE``, default
``.footy/clips`` under the repository root, else a folder in the system temp dir) and serves
the bytes with ``Content-Length``, ``Accept-Ranges`` and single-range ``206`` answers.
Unknown ids, clips without an MP4 variant, playlists and preview images answer 404. Clips
are served whatever the scenario clock says: a URL is only known once the post is found.

Faults (``POST /_standin/faults`` with ``"path": "/media/<tweet_id>.mp4"``). A download makes
two GETs (yt-dlp's probe, then the download), so give a fault ``"count": 2`` or more for it
to reach the download itself:

* the server's generic kinds: ``"404"`` (removed post), ``"403"`` (geo-blocked), ``"500"``,
  ``"timeout"`` (``seconds`` of silence before the answer), ``"reset"``;
* ``media_slow``: the real file, streamed at ``rate`` bytes/s (default 65536);
* ``media_stall``: sends the headers and ``bytes`` (default 65536) of the body, then
  stays silent for ``seconds`` before closing (a download stalled mid-stream);
* ``media_corrupt``: 200 ``video/mp4`` with ``bytes`` (default 300000) of noise, not a video;
* ``media_oversize``: announces ``bytes`` (default 512 MiB) and streams the real file
  followed by zeros until the client hangs up.
"""

from __future__ import annotations

import logging
import os
import random
import re
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from footy_testbed.standin.server import (
    Fault,
    StandinRequest,
    StandinResponse,
    World,
    register,
    register_fault,
)
from footy_testbed.standin.x_api import find_clip, scenario_clips

log = logging.getLogger(__name__)

MEDIA_PREFIX = "/media"
ENV_CLIP_CACHE = "FOOTY_CLIP_CACHE"
MP4_TYPE = "video/mp4"
_CHUNK = 16 * 1024
_MEDIA_PATH = re.compile(r"^/media/(?P<tweet_id>[0-9]+)\.(?P<ext>[a-z0-9]+)$")
_RANGE = re.compile(r"^bytes=(?P<start>[0-9]*)-(?P<end>[0-9]*)$")
_render_locks: dict[str, threading.Lock] = {}
_render_locks_guard = threading.Lock()


def clip_cache_dir() -> Path:
    """``$FOOTY_CLIP_CACHE``, else ``<repo>/.footy/clips`` in a checkout, else a temp folder."""
    configured = os.environ.get(ENV_CLIP_CACHE, "").strip()
    if configured:
        return Path(configured)
    repo = Path(__file__).resolve().parents[3]
    if (repo / "pyproject.toml").is_file():
        return repo / ".footy" / "clips"
    return Path(tempfile.gettempdir()) / "footy-clips"


def prerender(world: World, workers: int = 2) -> int:
    """Render every clip of the scenario into the cache now, X's files and Reddit's DASH
    folders (a CDN has its files before the post appears); otherwise each clip is rendered on
    its first request. Returns the count."""
    from footy_testbed.clipgen import render_cached  # numpy/OpenCV: only when rendering

    clip_specs = (c.clip_spec() for c in scenario_clips(world)
                  if c.mp4 and c.media_type != "photo")
    specs = {spec.digest(): spec for spec in clip_specs}
    cache = clip_cache_dir()
    from footy_testbed.standin.reddit import dash_folder, scenario_posts

    reddit_videos = [p for p in scenario_posts(world) if p.host == "reddit"]
    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(lambda spec: render_cached(spec, cache), specs.values()))
        list(pool.map(dash_folder, reddit_videos))
    return len(specs) + len(reddit_videos)


def _not_found(what: str) -> StandinResponse:
    return StandinResponse.json_body({"errors": [{"message": f"{what} not found"}]}, 404)


def clip_file(req: StandinRequest) -> Path | StandinResponse:
    """The rendered file this request asks for, or the 404 to answer instead."""
    match = _MEDIA_PATH.match(req.path)
    if match is None or match["ext"] != "mp4":
        return _not_found(req.path)
    clip = find_clip(req.world, match["tweet_id"])
    if clip is None or not clip.mp4 or clip.media_type == "photo":
        return _not_found(f"media {match['tweet_id']}")
    spec = clip.clip_spec()
    bitrate = req.query.get("bitrate", "")
    if bitrate:
        if not bitrate.isdigit() or int(bitrate) < 1000:
            return StandinResponse.json_body({"errors": [{"message": "bad bitrate"}]}, 400)
        spec = replace(spec, bitrate_kbps=int(bitrate) // 1000)
    # One render per spec at a time: the machine is small and renders are CPU-bound.
    with _render_locks_guard:
        lock = _render_locks.setdefault(spec.digest(), threading.Lock())
    with lock:
        from footy_testbed.clipgen import (
            render_cached,  # numpy/OpenCV: only when a clip is asked for
        )

        return render_cached(spec, clip_cache_dir())


def _byte_range(header: str, size: int) -> tuple[int, int] | None:
    """``(first, last)`` of a single ``bytes=`` range, or None when absent/unsupported."""
    match = _RANGE.match(header.strip())
    if match is None or (not match["start"] and not match["end"]):
        return None
    if match["start"]:
        first = int(match["start"])
        last = int(match["end"]) if match["end"] else size - 1
    else:  # suffix range: the last N bytes
        first, last = max(0, size - int(match["end"])), size - 1
    return first, min(last, size - 1)


def serve_media(req: StandinRequest) -> StandinResponse:
    found = clip_file(req)
    if isinstance(found, StandinResponse):
        return found
    return serve_bytes(req, found.read_bytes(), MP4_TYPE)


def serve_bytes(req: StandinRequest, data: bytes, content_type: str) -> StandinResponse:
    """A file's bytes as a CDN answers: whole, or the single range the request asks for."""
    headers = {"Accept-Ranges": "bytes"}
    wanted = _byte_range(req.headers.get("range", ""), len(data))
    if wanted is None:
        return StandinResponse(200, data, headers, content_type=content_type)
    first, last = wanted
    if first >= len(data) or first > last:
        headers["Content-Range"] = f"bytes */{len(data)}"
        return StandinResponse(416, b"", headers, content_type=content_type)
    headers["Content-Range"] = f"bytes {first}-{last}/{len(data)}"
    return StandinResponse(206, data[first : last + 1], headers, content_type=content_type)


# ---- streaming faults ------------------------------------------------------------------------


def _stream(req: StandinRequest, total: int, chunks: Any, pause: float) -> StandinResponse:
    """Answer 200 announcing ``total`` bytes and write ``chunks`` with ``pause`` s between
    them; then close. Stops early when the server stops."""
    stopping = req.world.stopping

    def paced() -> Any:
        for chunk in chunks:
            if stopping.is_set():
                return
            yield chunk
            if pause > 0 and stopping.wait(pause):
                return

    return StandinResponse(200, headers={"Accept-Ranges": "bytes"}, content_type=MP4_TYPE,
                           stream=paced(), length=total)


def _chunks(data: bytes, size: int = _CHUNK) -> Any:
    return (data[i : i + size] for i in range(0, len(data), size))


def _fault_slow(req: StandinRequest, fault: Fault) -> StandinResponse:
    found = clip_file(req)
    if isinstance(found, StandinResponse):
        return found
    data = found.read_bytes()
    rate = max(1, int(fault.options.get("rate", 65536)))
    return _stream(req, len(data), _chunks(data), _CHUNK / rate)


def _fault_stall(req: StandinRequest, fault: Fault) -> StandinResponse:
    found = clip_file(req)
    if isinstance(found, StandinResponse):
        return found
    data = found.read_bytes()
    head = data[: int(fault.options.get("bytes", 65536))]

    def chunks() -> Any:
        yield head
        req.world.stopping.wait(fault.seconds)

    return _stream(req, len(data), chunks(), 0)


def _fault_corrupt(req: StandinRequest, fault: Fault) -> StandinResponse:
    size = int(fault.options.get("bytes", 300_000))
    noise = random.Random(req.path).randbytes(size)  # deterministic per URL
    return StandinResponse(200, noise, {"Accept-Ranges": "bytes"}, content_type=MP4_TYPE)


def _fault_oversize(req: StandinRequest, fault: Fault) -> StandinResponse:
    found = clip_file(req)
    if isinstance(found, StandinResponse):
        return found
    data = found.read_bytes()
    total = max(len(data), int(fault.options.get("bytes", 512 * 1024 * 1024)))

    def chunks() -> Any:
        yield from _chunks(data)
        zeros = bytes(_CHUNK)
        sent = len(data)
        deadline = time.monotonic() + 60  # never stream forever to a client that keeps up
        while sent < total and time.monotonic() < deadline:
            piece = zeros[: min(_CHUNK, total - sent)]
            sent += len(piece)
            yield piece

    return _stream(req, total, chunks(), 0)


for _method in ("GET", "HEAD"):
    register(_method, MEDIA_PREFIX, serve_media)
register_fault("media_slow", _fault_slow)
register_fault("media_stall", _fault_stall)
register_fault("media_corrupt", _fault_corrupt)
register_fault("media_oversize", _fault_oversize)
