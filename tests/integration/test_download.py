"""footy.download against a real local HTTP server serving real H.264 MP4s (no mocks)."""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from footy.download import (
    ClipForbiddenError,
    ClipNotFoundError,
    ClipTooLargeError,
    CorruptClipError,
    DownloadedFile,
    DownloadFailedError,
    DownloadProgress,
    DownloadTimeoutError,
    GateRejectedError,
    UrlPolicy,
    UrlRejectedError,
    download,
)
from footy.download.fetch import _Guard, _PolicyBlocked
from footy.pipeline.download import SourceMedia

pytestmark = pytest.mark.integration

FFMPEG = shutil.which("ffmpeg") or "/usr/bin/ffmpeg"
LOCAL = UrlPolicy(allowed_hosts=("127.0.0.1",), allow_private=True)


def _make_clip(path: Path, width: int, height: int, seconds: int = 4) -> None:
    subprocess.run(
        [
            FFMPEG, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "lavfi", "-i", f"testsrc2=size={width}x{height}:rate=25:duration={seconds}",
            "-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p",
            "-movflags", "+faststart", str(path),
        ],
        check=True,
        timeout=60,
    )  # fmt: skip


@pytest.fixture(scope="session")
def media(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("media")
    _make_clip(folder / "landscape.mp4", 1280, 720)
    _make_clip(folder / "portrait.mp4", 360, 640)
    return {
        "landscape": (folder / "landscape.mp4").read_bytes(),
        "portrait": (folder / "portrait.mp4").read_bytes(),
        "corrupt": os.urandom(300_000),
    }


def _handler_for(media: dict[str, bytes]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: object) -> None:  # keep test output quiet
            pass

        def _send(self, status: int, body: bytes = b"", ctype: str = "video/mp4",
                  headers: dict[str, str] | None = None) -> None:  # fmt: skip
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        def do_HEAD(self) -> None:  # noqa: N802
            self.do_GET()

        def do_GET(self) -> None:  # noqa: N802
            path = self.path.split("?", 1)[0]
            if path in ("/landscape.mp4", "/clip/landscape"):
                self._send(200, media["landscape"])
            elif path == "/portrait.mp4":
                self._send(200, media["portrait"])
            elif path == "/corrupt.mp4":
                self._send(200, media["corrupt"])
            elif path == "/missing.mp4":
                self._send(404, b"not found", "text/plain")
            elif path == "/gone.mp4":
                self._send(410, b"gone", "text/plain")
            elif path == "/forbidden.mp4":
                self._send(403, b"forbidden", "text/plain")
            elif path == "/geo.mp4":
                self._send(451, b"unavailable for legal reasons", "text/plain")
            elif path == "/slow.mp4":
                time.sleep(4)  # longer than the socket timeout the test uses
                self._send(200, media["landscape"])
            elif path == "/huge.mp4":
                # Announces 5 GB, sends a little, then closes.
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Content-Length", str(5 * 1024**3))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(media["landscape"][:1024])
                self.close_connection = True
            elif path == "/endless.mp4":
                # No Content-Length: the size is only known by counting what arrives.
                self.send_response(200)
                self.send_header("Content-Type", "video/mp4")
                self.send_header("Connection", "close")
                self.end_headers()
                self.close_connection = True
                if self.command == "HEAD":
                    return
                chunk = media["landscape"][:65536]
                try:
                    for _ in range(200):  # ~13 MB
                        self.wfile.write(chunk)
                except OSError:
                    pass
            elif path == "/redirect-ok":
                self._send(302, b"", "text/plain", {"Location": "/landscape.mp4"})
            elif path == "/redirect-out":
                self._send(302, b"", "text/plain",
                           {"Location": "http://evil.example.com/landscape.mp4"})  # fmt: skip
            elif path == "/redirect-file":
                self._send(302, b"", "text/plain", {"Location": "file:///etc/passwd"})
            else:
                self._send(404, b"no route", "text/plain")

    return Handler


@pytest.fixture(scope="module")
def server(media: dict[str, bytes]) -> Iterator[str]:
    class Server(ThreadingHTTPServer):
        def handle_error(self, request: object, client_address: object) -> None:
            pass  # clients hanging up on purpose (timeouts, size limits) are expected

    httpd = Server(("127.0.0.1", 0), _handler_for(media))
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """(dest_dir, work_dir): both must be empty after any failure."""
    dest = tmp_path / "dest"
    work = tmp_path / "work"
    work.mkdir()
    return dest, work


def _assert_clean(dest: Path, work: Path) -> None:
    assert not dest.exists() or list(dest.iterdir()) == []
    assert list(work.iterdir()) == []


def _get(server: str, route: str, dirs: tuple[Path, Path], **kw: object) -> DownloadedFile:
    dest, work = dirs
    kw.setdefault("policy", LOCAL)
    kw.setdefault("socket_timeout", 5)
    kw.setdefault("retries", 0)
    return download(f"{server}{route}", dest, work_dir=work, **kw)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- success


def test_downloads_landscape_clip(server: str, dirs: tuple[Path, Path], media: dict) -> None:
    updates: list[DownloadProgress] = []
    got = _get(server, "/landscape.mp4", dirs, progress=updates.append)
    dest, work = dirs
    assert got.path.parent == dest
    assert got.path.is_file() and got.path.suffix == ".mp4"
    assert got.size == len(media["landscape"]) == got.path.stat().st_size
    assert got.sha256 == hashlib.sha256(media["landscape"]).hexdigest()
    assert got.path.name == f"{got.sha256[:16]}.mp4"
    assert (got.width, got.height) == (1280, 720)
    assert got.fps == pytest.approx(25, abs=0.5)
    assert got.frame_count == pytest.approx(100, abs=2)
    assert got.duration_s == pytest.approx(4.0, abs=0.2)
    assert updates and updates[-1].finished
    assert updates[-1].downloaded_bytes == got.size
    assert list(work.iterdir()) == []  # temp folder removed
    assert list(dest.iterdir()) == [got.path]


def test_gate_sees_real_numbers_and_accepts(server: str, dirs: tuple[Path, Path]) -> None:
    seen: list[tuple[int, int, float]] = []

    def gate(w: int, h: int, d: float) -> list[str]:
        seen.append((w, h, d))
        return []

    got = _get(server, "/clip/landscape", dirs, gate=gate, filename="named.mp4")
    assert got.path.name == "named.mp4"
    assert seen and seen[0][:2] == (1280, 720) and seen[0][2] == pytest.approx(4.0, abs=0.2)


def test_allowed_redirect_is_followed(server: str, dirs: tuple[Path, Path]) -> None:
    got = _get(server, "/redirect-ok", dirs)
    assert (got.width, got.height) == (1280, 720)


# --------------------------------------------------------------------------- failures


def _short_edge_gate(w: int, h: int, d: float) -> list[str]:
    reasons = []
    if min(w, h) < 600:
        reasons.append(f"short edge {min(w, h)} < 600")
    if h > w:
        reasons.append("portrait")
    return reasons


@pytest.mark.parametrize(
    ("route", "kwargs", "error", "transient"),
    [
        ("/missing.mp4", {}, ClipNotFoundError, False),
        ("/gone.mp4", {}, ClipNotFoundError, False),
        ("/forbidden.mp4", {}, ClipForbiddenError, False),
        ("/geo.mp4", {}, ClipForbiddenError, False),
        ("/slow.mp4", {"socket_timeout": 1}, DownloadTimeoutError, True),
        ("/huge.mp4", {"max_bytes": 10 * 1024 * 1024}, ClipTooLargeError, False),
        ("/endless.mp4", {"max_bytes": 1024 * 1024}, ClipTooLargeError, False),
        ("/landscape.mp4", {"max_bytes": 1000}, ClipTooLargeError, False),
        ("/corrupt.mp4", {}, CorruptClipError, False),
        ("/portrait.mp4", {"gate": _short_edge_gate}, GateRejectedError, False),
        ("/redirect-out", {}, UrlRejectedError, False),
        ("/redirect-file", {}, UrlRejectedError, False),
    ],
)
def test_failures_are_typed_and_leave_nothing(
    server: str,
    dirs: tuple[Path, Path],
    route: str,
    kwargs: dict,
    error: type[Exception],
    transient: bool,
) -> None:
    with pytest.raises(error) as info:
        _get(server, route, dirs, **kwargs)
    assert info.value.transient is transient  # type: ignore[attr-defined]
    _assert_clean(*dirs)


def test_gate_reasons_are_reported(server: str, dirs: tuple[Path, Path]) -> None:
    with pytest.raises(GateRejectedError) as info:
        _get(server, "/portrait.mp4", dirs, gate=_short_edge_gate)
    assert info.value.reasons == ["short edge 360 < 600", "portrait"]


def test_redirect_rejection_names_target(server: str, dirs: tuple[Path, Path]) -> None:
    with pytest.raises(UrlRejectedError) as info:
        _get(server, "/redirect-out", dirs)
    assert "evil.example.com" in str(info.value)
    assert "allow-listed" in info.value.reason


def test_unreachable_server_is_transient(dirs: tuple[Path, Path]) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadFailedError) as info:
        _get(f"http://127.0.0.1:{port}", "/x.mp4", dirs)
    assert info.value.transient is True
    _assert_clean(*dirs)


# --------------------------------------------------------------------------- URL policy


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/clip.mp4",
        "http://localhost/clip.mp4",
        "http://10.1.2.3/clip.mp4",
        "http://192.168.0.10/clip.mp4",
        "http://172.16.0.1/clip.mp4",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/clip.mp4",
        "http://[fe80::1]/clip.mp4",
        "http://[::ffff:127.0.0.1]/clip.mp4",
        "http://0.0.0.0/clip.mp4",
        "http://2130706433/clip.mp4",
        "file:///etc/passwd",
        "ftp://video.twimg.com/clip.mp4",
        "data:video/mp4;base64,AAAA",
        "https://evil.example.com/clip.mp4",
        "https://video.twimg.com.evil.example.com/clip.mp4",
        "https://notx.com/clip.mp4",
    ],
)
def test_default_policy_refuses(url: str) -> None:
    # Hosts are allow-listed here so the address rule (not the host rule) is what refuses
    # the private/loopback/link-local ones.
    open_hosts = UrlPolicy(
        allowed_hosts=(
            "127.0.0.1", "localhost", "10.1.2.3", "192.168.0.10", "172.16.0.1",
            "169.254.169.254", "::1", "fe80::1", "::ffff:127.0.0.1", "0.0.0.0", "2130706433",
        )
    )  # fmt: skip
    for policy in (UrlPolicy(), open_hosts):
        with pytest.raises(UrlRejectedError):
            policy.check(url)


def test_default_policy_refuses_download_without_touching_disk(
    server: str, dirs: tuple[Path, Path]
) -> None:
    dest, work = dirs
    with pytest.raises(UrlRejectedError):
        download(f"{server}/landscape.mp4", dest, policy=UrlPolicy(), work_dir=work)
    with pytest.raises(UrlRejectedError) as info:
        download(
            f"{server}/landscape.mp4",
            dest,
            policy=UrlPolicy(allowed_hosts=("127.0.0.1",)),
            work_dir=work,
        )
    assert "loopback" in info.value.reason
    _assert_clean(dest, work)


def test_policy_accepts_allow_listed_hosts_and_subdomains() -> None:
    policy = SourceMedia.for_source("x", {}).policy
    for url in ("https://video.twimg.com/a.mp4", "https://x.com/u/status/1"):
        assert policy.check(url, resolve=False) == url
    with pytest.raises(UrlRejectedError, match="not allow-listed"):
        policy.check("https://v.redd.it/abc/DASHPlaylist.mpd", resolve=False)
    reddit = SourceMedia.for_source("reddit", {}).policy
    for url in ("https://v.redd.it/abc/DASHPlaylist.mpd", "https://streamable.com/abc",
                "https://cdn-cf-east.streamable.com/video/mp4/abc.mp4"):
        assert reddit.check(url, resolve=False) == url
    with pytest.raises(UrlRejectedError, match="not allow-listed"):
        reddit.check("https://video.twimg.com/a.mp4", resolve=False)
    with pytest.raises(UrlRejectedError, match="not allow-listed"):
        SourceMedia.for_source("unknown_source", {}).policy.check(
            "https://video.twimg.com/a.mp4", resolve=False)
    assert UrlPolicy(allowed_hosts=("twimg.com",)).check(
        "https://video.twimg.com/a.mp4", resolve=False
    )


def test_allow_list_entry_with_a_port_allows_only_that_port() -> None:
    # The stand-in's clip host and the local Airflow API share 127.0.0.1: naming the port
    # keeps a clip URL from reaching the API.
    policy = UrlPolicy(allowed_hosts=("127.0.0.1:8099", "[::1]:8099", "cdn.example.org:443"),
                       allow_private=True)  # fmt: skip
    for url in ("http://127.0.0.1:8099/media/1.mp4", "http://[::1]:8099/a.mp4",
                "https://cdn.example.org/a.mp4", "https://v.cdn.example.org:443/a.mp4"):
        assert policy.check(url, resolve=False) == url
    for url in ("http://127.0.0.1:8080/api/v2/dags", "http://127.0.0.1/a.mp4",
                "http://[::1]:8080/a.mp4", "http://cdn.example.org/a.mp4"):
        with pytest.raises(UrlRejectedError, match="not allow-listed"):
            policy.check(url, resolve=False)
    with pytest.raises(ValueError, match="127.0.0.1:http"):
        UrlPolicy.from_env("FOOTY_X_MEDIA_HOSTS", (), {"FOOTY_X_MEDIA_HOSTS": "127.0.0.1:http"})


def test_policy_from_env() -> None:
    env = {"FOOTY_X_MEDIA_HOSTS": " 127.0.0.1 , Example.org ",
           "FOOTY_DOWNLOAD_ALLOW_PRIVATE": "1"}  # fmt: skip
    policy = UrlPolicy.from_env("FOOTY_X_MEDIA_HOSTS", ("video.twimg.com",), env)
    assert policy == UrlPolicy(allowed_hosts=("127.0.0.1", "example.org"), allow_private=True)
    assert UrlPolicy.from_env("FOOTY_X_MEDIA_HOSTS", (), {}) == UrlPolicy()
    # A source's variable replaces only that source's list.
    assert SourceMedia.for_source("reddit", env).policy.allowed_hosts[0] == "v.redd.it"


def test_connected_peer_is_checked(server: str) -> None:
    """The connection-level check (DNS rebinding guard) refuses a loopback peer."""
    port = int(server.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        strict = _Guard(UrlPolicy(allowed_hosts=("127.0.0.1",)))
        with pytest.raises(_PolicyBlocked):
            strict.check_peer(sock, "127.0.0.1")
        assert isinstance(strict.rejections[0], UrlRejectedError)
        _Guard(LOCAL).check_peer(sock, "127.0.0.1")  # allowed by configuration


class _SkipsUrlAddressCheck(UrlPolicy):
    """Simulates DNS rebinding: the URL-time address check passes, the connect-time one
    sees the real (loopback) peer."""

    def check(self, url: str, *, resolve: bool = True) -> str:
        return UrlPolicy(self.allowed_hosts, allow_private=True).check(url, resolve=False)


def test_connection_level_check_is_active_inside_yt_dlp(
    server: str, dirs: tuple[Path, Path]
) -> None:
    policy = _SkipsUrlAddressCheck(allowed_hosts=("127.0.0.1",), allow_private=False)
    with pytest.raises(UrlRejectedError) as info:
        _get(server, "/landscape.mp4", dirs, policy=policy)
    assert "connected to loopback" in info.value.reason
    _assert_clean(*dirs)
