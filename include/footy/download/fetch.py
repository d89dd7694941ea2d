"""Download one clip with yt-dlp, check it, and hand back a verified local file.

How redirects are policed
-------------------------
yt-dlp is driven through its Python API with a private ``YoutubeDL`` subclass whose request
director holds exactly one request handler, ``_GuardedRequestsRH`` (a subclass of yt-dlp's own
``RequestsRH``). That handler

* checks every request URL yt-dlp makes (extractor probes and the media download) against the
  :class:`~footy.download.urls.UrlPolicy` before sending it;
* swaps the ``requests`` session for one whose ``rebuild_method`` -- called by
  ``requests.Session.resolve_redirects`` for every hop, after the Location header has been
  resolved -- checks the redirect target before it is requested;
* swaps the connection pools for ones whose connections check the *connected* peer address
  (so a DNS answer that changes between the check and the connect -- DNS rebinding -- is
  still refused). Only direct connections are checked this way; through a proxy the peer is
  the proxy.

A refusal inside yt-dlp is remembered on the guard and re-raised as the original
:class:`UrlRejectedError` once yt-dlp gives up, whatever yt-dlp wrapped it in. The handler is
per ``YoutubeDL`` instance: nothing is registered globally in yt-dlp.

Nothing partial stays on disk: yt-dlp writes into a per-call ``TemporaryDirectory`` which is
always removed; the file is moved into ``dest_dir`` only after every check passed.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import urllib3
import yt_dlp
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from yt_dlp.networking._requests import RequestsRH, RequestsSession
from yt_dlp.networking.exceptions import HTTPError as YtHTTPError
from yt_dlp.networking.exceptions import RequestError, TransportError
from yt_dlp.utils import ExtractorError, GeoRestrictedError, UnsupportedError

from footy.download.urls import HostResolutionError, UrlPolicy, UrlRejectedError
from footy.errors import FootyError, PermanentError, TransientError

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 200 * 1024 * 1024
# Single-file HTTP(S) formats only: those are fetched by yt-dlp's native HttpFD through the
# guarded request handler. HLS/DASH could be handed to ffmpeg, which fetches by itself and
# would bypass the URL guard. ``<=?`` keeps formats whose height is unknown (direct links).
_HTTP_ONLY = "[protocol^=http][protocol!*=dash]"
DEFAULT_FORMAT = (
    f"best[ext=mp4][height<=?1080]{_HTTP_ONLY}/best[height<=?1080]{_HTTP_ONLY}/best{_HTTP_ONLY}"
)
# A DASH manifest whose representations are whole files (Reddit-hosted video): the best video
# and the best audio, each one guarded HTTP download, merged on this machine by ffmpeg.
SPLIT_STREAMS_FORMAT = f"bv*[height<=?1080]{_HTTP_ONLY}+ba{_HTTP_ONLY}/{DEFAULT_FORMAT}"
PROGRESS_INTERVAL_S = 2.0
PROGRESS_STEP_PCT = 10.0
_HASH_CHUNK = 1024 * 1024

Gate = Callable[[int, int, float], list[str]]


# --------------------------------------------------------------------------- errors


class ClipDownloadError(FootyError):
    """Base of the download errors (lets callers ``except`` them together)."""


class ClipNotFoundError(ClipDownloadError, PermanentError):
    """404/410 or the post no longer has a video."""


class ClipForbiddenError(ClipDownloadError, PermanentError):
    """403/451, authentication required, or geo-blocked."""


class ClipTooLargeError(ClipDownloadError, PermanentError):
    """Larger than ``max_bytes`` (announced or actually received)."""


class CorruptClipError(ClipDownloadError, PermanentError):
    """The file does not open as video or yields no frames."""


class GateRejectedError(ClipDownloadError, PermanentError):
    """The real file fails the quality gates."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = list(reasons)
        super().__init__("quality gate: " + "; ".join(self.reasons))


class DownloadTimeoutError(ClipDownloadError, TransientError):
    """The server did not answer or stalled longer than the socket timeout."""


class DownloadFailedError(ClipDownloadError, TransientError):
    """Any other network/server failure (5xx, reset, DNS...)."""


@dataclass(frozen=True)
class DownloadedFile:
    path: Path
    size: int
    sha256: str
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float


@dataclass(frozen=True)
class DownloadProgress:
    downloaded_bytes: int
    total_bytes: int | None
    percent: float | None
    speed_bps: float | None
    finished: bool = False


@dataclass(frozen=True)
class VideoProbe:
    width: int
    height: int
    fps: float
    frame_count: int
    duration_s: float


# --------------------------------------------------------------------------- guarded HTTP


@dataclass
class _Guard:
    policy: UrlPolicy
    rejections: list[FootyError] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def check_url(self, url: str) -> None:
        try:
            self.policy.check(url)
        except (UrlRejectedError, HostResolutionError) as exc:
            self._remember(exc)
            raise _PolicyBlocked(str(exc)) from exc

    def check_peer(self, sock: socket.socket, host: str) -> None:
        try:
            peer = sock.getpeername()[0]
        except OSError:
            return
        try:
            self.policy.check_address(str(peer))
        except UrlRejectedError as exc:
            err = UrlRejectedError(f"//{host}", f"connected to {exc.reason}")
            self._remember(err)
            raise _PolicyBlocked(str(err)) from err

    def _remember(self, exc: FootyError) -> None:
        with self.lock:
            self.rejections.append(exc)


class _PolicyBlocked(RequestError):
    """Raised inside yt-dlp's networking; a RequestError so the director re-raises it."""


def _guarded_pool_classes(guard: _Guard) -> dict[str, type]:
    def conn_class(base: type) -> type:
        def _new_conn(self: Any) -> socket.socket:
            sock = base._new_conn(self)
            try:
                guard.check_peer(sock, self.host)
            except BaseException:
                sock.close()
                raise
            return sock

        return type(f"Guarded{base.__name__}", (base,), {"_new_conn": _new_conn})

    http_conn = conn_class(urllib3.connection.HTTPConnection)
    https_conn = conn_class(urllib3.connection.HTTPSConnection)
    return {
        "http": type(
            "GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}
        ),
        "https": type(
            "GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}
        ),
    }


class _GuardedSession(RequestsSession):
    _footy_guard: _Guard

    def rebuild_method(self, prepared_request: Any, response: Any) -> None:
        super().rebuild_method(prepared_request, response)  # also normalises the URL
        log.debug("redirect %s -> %s", response.status_code, prepared_request.url)
        self._footy_guard.check_url(prepared_request.url)


class _GuardedRequestsRH(RequestsRH):
    RH_NAME = "footy-guarded-requests"

    def __init__(self, *args: Any, guard: _Guard, **kwargs: Any) -> None:
        self._footy_guard = guard
        super().__init__(*args, **kwargs)

    def _create_instance(self, cookiejar: Any, legacy_ssl_support: Any = None) -> Any:
        session = super()._create_instance(cookiejar, legacy_ssl_support=legacy_ssl_support)
        session.__class__ = _GuardedSession
        session._footy_guard = self._footy_guard
        pools = _guarded_pool_classes(self._footy_guard)
        for adapter in {id(a): a for a in session.adapters.values()}.values():
            adapter.poolmanager.pool_classes_by_scheme = dict(pools)
        return session

    def _send(self, request: Any) -> Any:
        self._footy_guard.check_url(request.url)
        return super()._send(request)


class _GuardedYoutubeDL(yt_dlp.YoutubeDL):
    def __init__(self, params: dict[str, Any], *, guard: _Guard) -> None:
        self._footy_guard = guard
        super().__init__(params)

    def build_request_director(self, handlers: Any, preferences: Any = None) -> Any:
        # Ignore yt-dlp's registry: only the guarded handler may send anything.
        handler = functools.partial(_GuardedRequestsRH, guard=self._footy_guard)
        return super().build_request_director([handler], preferences)


# --------------------------------------------------------------------------- logging/progress


class _YtLogger:
    """yt-dlp logger -> Python logging; keeps the messages for error classification."""

    def __init__(self, logger: logging.Logger) -> None:
        self._log = logger
        self.messages: list[str] = []

    def _keep(self, msg: str) -> None:
        if len(self.messages) < 500:
            self.messages.append(msg)

    def debug(self, msg: str) -> None:
        self._keep(msg)
        self._log.debug("yt-dlp: %s", msg)

    def info(self, msg: str) -> None:
        self._keep(msg)
        self._log.debug("yt-dlp: %s", msg)

    def warning(self, msg: str) -> None:
        self._keep(msg)
        self._log.warning("yt-dlp: %s", msg)

    def error(self, msg: str) -> None:
        self._keep(msg)
        self._log.info("yt-dlp error: %s", msg)  # raised and classified by the caller


class _SizeExceeded(Exception):
    def __init__(self, received: int, limit: int) -> None:
        self.received = received
        self.limit = limit
        super().__init__(f"received {received} bytes > max {limit}")


class _ProgressReporter:
    def __init__(
        self,
        url: str,
        max_bytes: int,
        callback: Callable[[DownloadProgress], None] | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._url = url
        self._max = max_bytes
        self._cb = callback
        self._clock = clock
        self._last_t: float | None = None
        self._last_pct: float | None = None
        self.total_bytes: int | None = None

    def __call__(self, status: dict[str, Any]) -> None:
        state = status.get("status")
        done = int(status.get("downloaded_bytes") or 0)
        total = status.get("total_bytes") or status.get("total_bytes_estimate")
        total = int(total) if total else None
        if total:
            self.total_bytes = total
        if done > self._max:
            raise _SizeExceeded(done, self._max)
        if state not in ("downloading", "finished"):
            return
        finished = state == "finished"
        pct = (100.0 * done / total) if total else None
        now = self._clock()
        due = (
            finished
            or self._last_t is None
            or now - self._last_t >= PROGRESS_INTERVAL_S
            or (
                pct is not None
                and self._last_pct is not None
                and pct - self._last_pct >= PROGRESS_STEP_PCT
            )
        )
        if not due:
            return
        self._last_t = now
        self._last_pct = pct
        speed = status.get("speed")
        update = DownloadProgress(done, total, pct, float(speed) if speed else None, finished)
        log.info(
            "download %s: %s of %s bytes (%s) at %s",
            self._url,
            done,
            total if total is not None else "?",
            f"{pct:.0f}%" if pct is not None else "?%",
            f"{speed / 1024:.0f} KiB/s" if speed else "? KiB/s",
        )
        if self._cb is not None:
            try:
                self._cb(update)
            except Exception:  # a broken progress callback must not break the download
                log.exception("progress callback failed")


# --------------------------------------------------------------------------- helpers


def sha256_file(path: Path, chunk: int = _HASH_CHUNK) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def probe_video(path: Path) -> VideoProbe:
    """Real numbers from the file (OpenCV). Raises :class:`CorruptClipError`."""
    import cv2  # heavy import, only when needed

    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise CorruptClipError(f"cannot open as video: {path.name}")
        ok, frame = cap.read()
        if not ok or frame is None:
            raise CorruptClipError(f"no decodable frame: {path.name}")
        height, width = int(frame.shape[0]), int(frame.shape[1])  # after auto-rotation
        fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0)
        frames = int(cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0)
        if frames <= 0:  # container without a frame count: count them
            frames = 1
            while cap.grab():
                frames += 1
        if fps <= 0 or fps > 1000:
            raise CorruptClipError(f"no usable frame rate ({fps}): {path.name}")
        return VideoProbe(width, height, fps, frames, frames / fps)
    finally:
        cap.release()


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        cur = todo.pop(0)
        if cur is None or id(cur) in seen:
            continue
        seen.add(id(cur))
        yield cur
        info = getattr(cur, "exc_info", None)
        if isinstance(info, tuple) and len(info) > 1 and isinstance(info[1], BaseException):
            todo.append(info[1])
        cause = getattr(cur, "cause", None)
        if isinstance(cause, BaseException):
            todo.append(cause)
        todo.append(cur.__cause__)
        todo.append(cur.__context__)


def _http_status_error(status: int, url: str) -> FootyError:
    if status in (404, 410):
        return ClipNotFoundError(f"HTTP {status} for {url}")
    if status in (401, 403, 451):
        return ClipForbiddenError(f"HTTP {status} for {url}")
    if status == 408:
        return DownloadTimeoutError(f"HTTP 408 for {url}")
    return DownloadFailedError(f"HTTP {status} for {url}")


_TIMEOUT_WORDS = ("timed out", "timeout")
_GEO_WORDS = ("geo restrict", "not available in your country", "geo-restrict")


def classify_error(exc: BaseException, url: str, messages: list[str] | None = None) -> FootyError:
    """Map whatever yt-dlp raised to one of the typed download errors."""
    chain = list(_chain(exc))
    for cur in chain:
        if isinstance(cur, FootyError):
            return cur
    for cur in chain:
        if isinstance(cur, _SizeExceeded):
            return ClipTooLargeError(f"{url}: {cur}")
        if isinstance(cur, YtHTTPError):
            return _http_status_error(int(cur.status), url)
        if isinstance(cur, GeoRestrictedError):
            return ClipForbiddenError(f"geo-blocked: {url}: {cur}")
    for cur in chain:
        if isinstance(cur, urllib3.exceptions.NewConnectionError) and "timed out" not in str(cur):
            # urllib3 derives NewConnectionError from ConnectTimeoutError; a refused or
            # unreachable connection is not a timeout.
            return DownloadFailedError(f"{url}: {cur}")
        if isinstance(cur, TimeoutError | socket.timeout | urllib3.exceptions.TimeoutError):
            return DownloadTimeoutError(f"{url}: {cur}")
    text = " | ".join([str(e) for e in chain] + list(messages or ())).lower()
    for status in (404, 410, 401, 403, 451):
        if f"http error {status}" in text:
            return _http_status_error(status, url)
    if any(w in text for w in _GEO_WORDS):
        return ClipForbiddenError(f"geo-blocked: {url}")
    if any(w in text for w in _TIMEOUT_WORDS):
        return DownloadTimeoutError(f"{url}: {exc}")
    for cur in chain:
        if isinstance(cur, TransportError):
            return DownloadFailedError(f"{url}: {cur}")
    for cur in chain:
        if isinstance(cur, UnsupportedError):
            return ClipNotFoundError(f"no video at {url}")
        if isinstance(cur, ExtractorError) and getattr(cur, "expected", False):
            # yt-dlp's "expected" extractor errors: deleted/protected posts, no video in post
            return ClipNotFoundError(f"{url}: {cur.orig_msg if hasattr(cur, 'orig_msg') else cur}")
    return DownloadFailedError(f"{url}: {exc}")


def _move_into(src: Path, dst: Path) -> None:
    """Atomic within a filesystem; across filesystems copy to a hidden temp and rename."""
    try:
        os.replace(src, dst)
        return
    except OSError:
        pass
    tmp = dst.with_name(f".{dst.name}.partial")
    try:
        shutil.copyfile(src, tmp)
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _pick_output(folder: Path) -> Path | None:
    candidates = [
        p
        for p in folder.iterdir()
        if p.is_file()
        and not p.name.endswith((".part", ".ytdl", ".tmp", ".temp"))
        and ".part-Frag" not in p.name
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda p: p.stat().st_size)


# --------------------------------------------------------------------------- main entry


def download(
    url: str,
    dest_dir: str | os.PathLike[str],
    *,
    policy: UrlPolicy,
    max_bytes: int = DEFAULT_MAX_BYTES,
    socket_timeout: float = 20,
    retries: int = 3,
    progress: Callable[[DownloadProgress], None] | None = None,
    gate: Gate | None = None,
    filename: str | None = None,
    work_dir: str | os.PathLike[str] | None = None,
    format_spec: str = DEFAULT_FORMAT,
) -> DownloadedFile:
    """Download ``url`` into ``dest_dir`` and return the verified file.

    ``policy`` is the allow-list of the clip's source. ``gate(width, height, duration_s)``
    returns rejection reasons for the real file (empty = accepted). The final name is
    ``filename`` or ``<sha256[:16]>.<ext>``. yt-dlp works in a temporary folder under
    ``work_dir`` (default: ``dest_dir``'s parent, so the final move is a rename) that is
    removed whatever happens. Raises only the typed errors of this module (plus
    :class:`UrlRejectedError`); each has ``.transient``.
    """
    try:
        policy.check(url)
    except HostResolutionError as exc:
        raise DownloadFailedError(str(exc)) from exc

    dest = Path(dest_dir)
    dest.mkdir(parents=True, exist_ok=True)
    parent = Path(work_dir) if work_dir is not None else dest.resolve().parent
    try:
        parent.mkdir(parents=True, exist_ok=True)
        tmp_ctx = tempfile.TemporaryDirectory(prefix=".footy-dl-", dir=parent)
    except OSError:
        tmp_ctx = tempfile.TemporaryDirectory(prefix="footy-dl-")

    started = time.monotonic()
    with tmp_ctx as tmp_name:
        tmp = Path(tmp_name)
        guard = _Guard(policy)
        yt_log = _YtLogger(log)
        reporter = _ProgressReporter(url, max_bytes, progress)
        params: dict[str, Any] = {
            "format": format_spec,
            "merge_output_format": "mp4",  # split video and audio are muxed locally
            "outtmpl": {"default": str(tmp / "clip.%(ext)s")},
            "max_filesize": max_bytes,
            "socket_timeout": socket_timeout,
            "retries": retries,
            "fragment_retries": retries,
            "extractor_retries": retries,
            "file_access_retries": 1,
            "noplaylist": True,
            "playlist_items": "1",
            "quiet": True,
            "no_warnings": False,
            "noprogress": True,
            "logger": yt_log,
            "progress_hooks": [reporter],
            "cachedir": False,
            "overwrites": True,
            "continuedl": False,
            "noresizebuffer": False,
            "color": {"stdout": "no_color", "stderr": "no_color"},
            "postprocessors": [],
            "external_downloader": {"default": "native"},  # never curl/aria2c/ffmpeg
            "hls_prefer_native": True,
        }
        try:
            with _GuardedYoutubeDL(params, guard=guard) as ydl:
                ydl.extract_info(url, download=True)
        except Exception as exc:  # yt-dlp raises many types (and extractor bugs raise more)
            raise _failure(exc, url, guard, yt_log) from exc
        if guard.rejections:  # refused but yt-dlp swallowed it
            raise _failure(RuntimeError("refused"), url, guard, yt_log)

        out = _pick_output(tmp)
        if out is None:
            if any("larger than max-filesize" in m for m in yt_log.messages):
                raise ClipTooLargeError(
                    f"{url}: announced size > max {max_bytes} bytes (yt-dlp skipped it)"
                )
            raise DownloadFailedError(f"{url}: yt-dlp produced no file")
        size = out.stat().st_size
        if size > max_bytes:
            raise ClipTooLargeError(f"{url}: {size} bytes > max {max_bytes}")
        if size == 0:
            raise CorruptClipError(f"{url}: empty file")

        probe = probe_video(out)
        if gate is not None:
            reasons = list(gate(probe.width, probe.height, probe.duration_s) or [])
            if reasons:
                raise GateRejectedError(reasons)
        digest = sha256_file(out)
        ext = out.suffix or ".mp4"
        final = dest / (filename or f"{digest[:16]}{ext}")
        _move_into(out, final)

    log.info(
        "downloaded %s -> %s (%d bytes, %dx%d, %.1f fps, %.1f s) in %.1f s",
        url,
        final,
        size,
        probe.width,
        probe.height,
        probe.fps,
        probe.duration_s,
        time.monotonic() - started,
    )
    return DownloadedFile(
        path=final,
        size=size,
        sha256=digest,
        width=probe.width,
        height=probe.height,
        fps=probe.fps,
        frame_count=probe.frame_count,
        duration_s=probe.duration_s,
    )


def _failure(exc: BaseException, url: str, guard: _Guard, yt_log: _YtLogger) -> FootyError:
    if guard.rejections:
        first = guard.rejections[0]
        if isinstance(first, HostResolutionError):
            return DownloadFailedError(str(first))
        return first
    err = classify_error(exc, url, yt_log.messages)
    log.info("download failed %s: %s", url, err.as_record())
    return err
