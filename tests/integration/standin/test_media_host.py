"""The stand-in clip host over real HTTP: real H.264 bytes, ranges, variants, 404s and the
media fault kinds (the download stage's own tests drive yt-dlp through them)."""

from __future__ import annotations

import http.client
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import requests

from footy.download import CorruptClipError, probe_video
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration

GOOD = "1900000000000077001"  # 1280x720, 8 s, 3000 kb/s
PORTRAIT = "1900000000000083004"
PATH = f"/media/{GOOD}.mp4"


@pytest.fixture(scope="module")
def standin() -> Iterator[Any]:
    handle = start_in_thread("test_matchday", paused_at=0)
    yield handle
    handle.stop()


@pytest.fixture(autouse=True)
def clear_faults(standin: Any) -> Iterator[None]:
    standin.world.clear_faults()
    yield
    standin.world.clear_faults()


@pytest.fixture(scope="module")
def full(standin: Any) -> bytes:
    resp = requests.get(standin.url + PATH, timeout=60)
    assert resp.status_code == 200
    return resp.content


def _probe(tmp_path: Path, data: bytes, name: str = "clip.mp4") -> Any:
    path = tmp_path / name
    path.write_bytes(data)
    return probe_video(path)


def test_serves_the_rendered_clip_as_real_h264(standin, full, tmp_path):
    resp = requests.head(standin.url + PATH, timeout=60)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "video/mp4"
    assert int(resp.headers["Content-Length"]) == len(full) and resp.content == b""
    assert resp.headers["Accept-Ranges"] == "bytes"
    probe = _probe(tmp_path, full)
    assert (probe.width, probe.height) == (1280, 720)
    assert probe.duration_s == pytest.approx(8.0, abs=0.1)
    assert full[4:8] == b"ftyp"
    portrait = requests.get(f"{standin.url}/media/{PORTRAIT}.mp4", timeout=60).content
    assert (_probe(tmp_path, portrait, "p.mp4").width, _probe(tmp_path, portrait, "p.mp4").height
            ) == (720, 1280)  # fmt: skip


def test_byte_ranges(standin, full):
    url = standin.url + PATH
    part = requests.get(url, headers={"Range": "bytes=100-199"}, timeout=30)
    assert part.status_code == 206 and part.content == full[100:200]
    assert part.headers["Content-Range"] == f"bytes 100-199/{len(full)}"
    tail = requests.get(url, headers={"Range": "bytes=-50"}, timeout=30)
    assert tail.status_code == 206 and tail.content == full[-50:]
    rest = requests.get(url, headers={"Range": f"bytes={len(full) - 10}-"}, timeout=30)
    assert rest.content == full[-10:]
    beyond = requests.get(url, headers={"Range": f"bytes={len(full)}-"}, timeout=30)
    assert beyond.status_code == 416


def test_low_bitrate_variant_is_a_smaller_encode(standin, full, tmp_path):
    low = requests.get(f"{standin.url}{PATH}?bitrate=600000", timeout=60)
    assert low.status_code == 200 and len(low.content) < len(full) / 2
    probe = _probe(tmp_path, low.content)
    assert (probe.width, probe.height) == (1280, 720)
    assert requests.get(f"{standin.url}{PATH}?bitrate=abc", timeout=10).status_code == 400


@pytest.mark.parametrize("path", [
    "/media/1900000000000000404.mp4",  # no such post
    f"/media/{GOOD}.m3u8",  # playlists are not served
    f"/media/{GOOD}.jpg",
    "/media/not-an-id.mp4",
])  # fmt: skip
def test_unknown_media_is_404(standin, path):
    assert requests.get(standin.url + path, timeout=10).status_code == 404


def test_advertised_variants_are_served(standin):
    standin.world.clock.set(400)  # every Haaland clip is posted by now
    search = requests.get(
        standin.url + "/2/tweets/search/recent",
        params={"query": "haaland has:videos", "max_results": 10},
        headers={"Authorization": "Bearer t"}, timeout=10,
    )  # fmt: skip
    media = {m["media_key"]: m for m in search.json()["includes"]["media"]}
    variants = media[f"7_{GOOD}"]["variants"]
    mp4s = [v["url"] for v in variants if v["content_type"] == "video/mp4"]
    assert len(mp4s) == 2
    for url in mp4s:
        resp = requests.get(url, timeout=60)
        assert resp.status_code == 200 and resp.content[4:8] == b"ftyp"


@pytest.mark.parametrize("kind", ["403", "404"])
def test_status_faults(standin, full, kind):
    standin.world.add_fault(PATH, kind, count=1)
    assert requests.get(standin.url + PATH, timeout=10).status_code == int(kind)
    assert requests.get(standin.url + PATH, timeout=10).content == full  # count used up


def test_corrupt_fault_is_not_a_video(standin, tmp_path):
    standin.world.add_fault(PATH, "media_corrupt", count=1, bytes=200_000)
    resp = requests.get(standin.url + PATH, timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"] == "video/mp4"
    assert len(resp.content) == 200_000
    with pytest.raises(CorruptClipError):
        _probe(tmp_path, resp.content)


def test_slow_fault_streams_the_real_file_at_the_rate(standin, full):
    standin.world.add_fault(PATH, "media_slow", count=1, rate=2_000_000)
    start = time.monotonic()
    resp = requests.get(standin.url + PATH, timeout=30)
    elapsed = time.monotonic() - start
    assert resp.content == full
    assert elapsed >= len(full) / 2_000_000 * 0.8


def test_stall_fault_stops_mid_body(standin, full):
    standin.world.add_fault(PATH, "media_stall", count=1, bytes=10_000, seconds=5)
    with requests.get(standin.url + PATH, stream=True, timeout=(5, 1)) as resp:
        assert int(resp.headers["Content-Length"]) == len(full)
        got = b""
        with pytest.raises(requests.exceptions.ConnectionError):  # read timeout mid-body
            for chunk in resp.iter_content(4096):
                got += chunk
    assert got == full[: len(got)] and 0 < len(got) <= 10_000


def test_oversize_fault_announces_a_huge_body(standin, full):
    standin.world.add_fault(PATH, "media_oversize", count=1, bytes=300 * 1024 * 1024)
    host, port = urlsplit(standin.url).hostname, urlsplit(standin.url).port
    conn = http.client.HTTPConnection(host, port, timeout=10)
    conn.request("GET", PATH)
    resp = conn.getresponse()
    assert resp.status == 200 and int(resp.headers["Content-Length"]) == 300 * 1024 * 1024
    assert resp.read(len(full)) == full  # the real file first, then padding
    assert resp.read(1000) == bytes(1000)
    conn.sock.shutdown(socket.SHUT_RDWR)  # hang up: the server stops streaming
    conn.close()


def test_timeout_fault_delays_the_answer(standin, full):
    standin.world.add_fault(PATH, "timeout", count=1, seconds=2)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(standin.url + PATH, timeout=(5, 0.5))
    time.sleep(2)
    assert requests.get(standin.url + PATH, timeout=10).content == full
