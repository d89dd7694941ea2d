"""The real X client over real HTTP against a small server speaking X API v2 shapes.

No mocks of ``requests``: each test scripts the server's responses and inspects what the
client actually sent.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from footy.errors import PayloadError, TransientError
from footy.sources import GoalQuery, create_source
from footy.sources.query import build_query
from footy.sources.x_api import (
    XApiSource,
    XAuthError,
    XConnectionError,
    XRateLimitedError,
    XServerError,
    XTimeoutError,
)

pytestmark = pytest.mark.integration

TOKEN = "test-bearer"
GOAL_TIME = datetime(2026, 3, 14, 15, 23, 0, tzinfo=UTC)


@dataclass
class Reply:
    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Seen:
    path: str
    params: dict[str, str]
    headers: dict[str, str]


class FakeX:
    """Replies from a script (one per request, the last one repeats)."""

    def __init__(self) -> None:
        self.script: list[Reply | Callable[[Seen], Reply]] = []
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                parts = urlsplit(self.path)
                params = {k: v[-1] for k, v in parse_qs(parts.query).items()}
                seen = Seen(parts.path, params, {k.lower(): v for k, v in self.headers.items()})
                with fake.lock:
                    fake.seen.append(seen)
                    index = min(len(fake.seen), len(fake.script)) - 1
                    step = fake.script[index]
                reply = step(seen) if callable(step) else step
                if reply.delay:
                    time.sleep(reply.delay)
                payload = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body)
                data = payload.encode() if isinstance(payload, str) else payload
                try:
                    self.send_response(reply.status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    for k, v in reply.headers.items():
                        self.send_header(k, v)
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def reply(self, *steps: Reply | Callable[[Seen], Reply]) -> None:
        self.script = list(steps)


@pytest.fixture
def fake() -> Iterator[FakeX]:
    fx = FakeX()
    thread = threading.Thread(target=fx.server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fx
    fx.server.shutdown()
    fx.server.server_close()


def client(fake: FakeX, **kw: Any) -> XApiSource:
    settings: dict[str, Any] = {
        "timeout": 2.0,
        "max_attempts": 3,
        "backoff_initial": 0.01,
        "backoff_max": 0.05,
    }
    settings.update(kw)
    return XApiSource(fake.url, TOKEN, **settings)


def tweet(tid: str, media_key: str | None = None, **extra: Any) -> dict[str, Any]:
    t: dict[str, Any] = {
        "id": tid,
        "text": f"GOAL Semenyo {tid[-3:]}",
        "created_at": "2026-03-14T15:24:10.000Z",
        "lang": "en",
        "edit_history_tweet_ids": [tid],
        "public_metrics": {
            "retweet_count": 3,
            "reply_count": 1,
            "like_count": 20,
            "quote_count": 0,
            "bookmark_count": 2,
            "impression_count": 900,
        },
    }
    if media_key:
        t["attachments"] = {"media_keys": [media_key]}
    t.update(extra)
    return t


def video(key: str, variants: list[dict[str, Any]] | None = None, **extra: Any) -> dict[str, Any]:
    m: dict[str, Any] = {
        "media_key": key,
        "type": "video",
        "duration_ms": 24567,
        "width": 1280,
        "height": 720,
        "preview_image_url": f"https://pbs.twimg.com/{key}.jpg",
        "variants": variants
        if variants is not None
        else [{"bit_rate": 2176000, "content_type": "video/mp4", "url": f"http://v/{key}.mp4"}],
    }
    m.update(extra)
    return m


def page(tweets: list[dict], media: list[dict], next_token: str | None = None) -> dict[str, Any]:
    ids = [t["id"] for t in tweets if "id" in t]
    meta: dict[str, Any] = {"result_count": len(tweets)}
    if ids:
        meta["newest_id"] = max(ids, key=int)
        meta["oldest_id"] = min(ids, key=int)
    if next_token:
        meta["next_token"] = next_token
    body: dict[str, Any] = {"meta": meta}
    if tweets:
        body["data"] = tweets
        body["includes"] = {"media": media}
    return body


ID1 = "1900000000000000001"
ID2 = "1900000000000000002"
ID3 = "190000000000000003"  # 18 digits: still valid


def goal() -> GoalQuery:
    return GoalQuery(
        goal_id="1_Bournemouth_Semenyo_Normal Goal_1",
        fixture_id=1,
        scorer_name="Antoine Semenyo",
        team_name="Bournemouth",
        goal_time=GOAL_TIME,
        minute=23,
        team_aliases=("AFCB",),
    )


def test_best_mp4_variant_by_bitrate_and_request_shape(fake: FakeX) -> None:
    variants = [
        {"content_type": "application/x-mpegURL", "url": "http://v/pl.m3u8"},
        {"bit_rate": 832000, "content_type": "video/mp4", "url": "http://v/mid.mp4"},
        {"bit_rate": 5000000, "content_type": "video/webm", "url": "http://v/hi.webm"},
        {"bit_rate": 2176000, "content_type": "video/mp4", "url": "http://v/best.mp4"},
        {"bit_rate": 256000, "content_type": "video/mp4", "url": "http://v/low.mp4"},
    ]
    fake.reply(Reply(body=page([tweet(ID1, "7_1")], [video("7_1", variants)])))
    result = client(fake).search(goal())

    assert [c.media_url for c in result.candidates] == ["http://v/best.mp4"]
    c = result.candidates[0]
    assert c.source == "x" and c.source_id == ID1
    assert c.post_url == f"https://x.com/i/status/{ID1}"
    assert c.bitrate == 2176000 and (c.width, c.height) == (1280, 720)
    assert c.duration_s == pytest.approx(24.567)
    assert c.posted_at == datetime(2026, 3, 14, 15, 24, 10, tzinfo=UTC)
    assert c.popularity == 24
    assert result.newest_id == ID1 and result.next_token is None and result.pages == 1

    (req,) = fake.seen
    assert req.path == "/2/tweets/search/recent"
    assert req.headers["authorization"] == f"Bearer {TOKEN}"
    assert req.params["query"] == build_query(goal()).query
    assert (
        req.params["query"] == "(Semenyo OR Antoine) (Bournemouth OR AFCB) has:videos -is:retweet"
    )
    assert req.params["start_time"] == "2026-03-14T15:22:00Z"
    assert req.params["max_results"] == "100"
    assert req.params["expansions"] == "attachments.media_keys"
    assert req.params["media.fields"] == "type,duration_ms,variants,width,height,preview_image_url"
    assert req.params["tweet.fields"] == "created_at,public_metrics,lang"


def test_since_id_replaces_start_time(fake: FakeX) -> None:
    fake.reply(Reply(body={"meta": {"result_count": 0}}))
    result = client(fake).search(goal(), since_id=ID1)
    assert result.candidates == () and result.newest_id is None
    assert fake.seen[0].params["since_id"] == ID1
    assert "start_time" not in fake.seen[0].params


def test_truncated_ids_and_videoless_posts_are_rejected_not_errors(fake: FakeX) -> None:
    short, long_ = "19000000000000001", "19000000000000000001"  # 17 and 20 digits
    tweets = [
        tweet(ID1, "m1"),
        tweet(short, "m2"),
        tweet(long_, "m3"),
        tweet(ID3, "m4"),
        tweet(ID2, "p1"),  # a photo only
        tweet("1900000000000000009", "m9"),  # video with only an HLS playlist
    ]
    media = [
        video("m1"),
        video("m2"),
        video("m3"),
        video("m4"),
        {"media_key": "p1", "type": "photo", "width": 1200, "height": 675},
        video("m9", [{"content_type": "application/x-mpegURL", "url": "http://v/x.m3u8"}]),
    ]
    fake.reply(Reply(body=page(tweets, media)))
    result = client(fake).search(goal())

    assert [c.source_id for c in result.candidates] == [ID1, ID3]
    reasons = {r.source_id: r.reasons for r in result.rejected}
    assert reasons == {
        short: ("truncated_id",),
        long_: ("truncated_id",),
        ID2: ("no_video",),
        "1900000000000000009": ("no_mp4_variant",),
    }
    assert all(r.post_url.startswith("https://x.com/i/status/") for r in result.rejected)
    assert result.newest_id == "1900000000000000009"  # the 20-digit id does not count


def test_pagination_follows_next_token_up_to_page_limit(fake: FakeX) -> None:
    def by_token(seen: Seen) -> Reply:
        token = seen.params.get("next_token")
        if token is None:
            return Reply(body=page([tweet(ID2, "a")], [video("a")], next_token="p2"))
        if token == "p2":
            return Reply(body=page([tweet(ID1, "b")], [video("b")], next_token="p3"))
        return Reply(body=page([tweet(ID3, "c")], [video("c")]))

    fake.reply(by_token)
    result = client(fake).search(goal())
    assert [c.source_id for c in result.candidates] == [ID2, ID1, ID3]
    assert result.pages == 3 and result.next_token is None
    assert [s.params.get("next_token") for s in fake.seen] == [None, "p2", "p3"]
    assert result.newest_id == ID2
    # The query stays the same on every page.
    assert len({s.params["query"] for s in fake.seen}) == 1

    fake.seen.clear()
    limited = client(fake, max_pages=2).search(goal())
    assert limited.pages == 2 and limited.next_token == "p3" and limited.truncated
    assert len(fake.seen) == 2


def test_429_raises_rate_limited_with_reset_and_does_not_sleep(fake: FakeX) -> None:
    reset = int(time.time()) + 600
    fake.reply(
        Reply(
            429,
            {"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429},
            headers={
                "x-rate-limit-limit": "60",
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(reset),
            },
        )
    )
    started = time.monotonic()
    with pytest.raises(XRateLimitedError) as info:
        client(fake, max_attempts=5).search(goal())
    assert time.monotonic() - started < 1.0
    assert info.value.reset_at == datetime.fromtimestamp(reset, UTC)
    assert isinstance(info.value, TransientError) and info.value.transient
    assert len(fake.seen) == 1  # not retried


def test_5xx_retried_then_success(fake: FakeX) -> None:
    fake.reply(
        Reply(503, {"title": "Service Unavailable"}),
        Reply(500, "oops"),
        Reply(body=page([tweet(ID1, "m")], [video("m")])),
    )
    result = client(fake, max_attempts=3).search(goal())
    assert [c.source_id for c in result.candidates] == [ID1]
    assert len(fake.seen) == 3


def test_5xx_exhausts_attempts_as_transient_error(fake: FakeX) -> None:
    fake.reply(Reply(502, {"title": "Bad Gateway"}))
    with pytest.raises(XServerError) as info:
        client(fake, max_attempts=2).search(goal())
    assert info.value.status == 502 and info.value.transient
    assert len(fake.seen) == 2


def test_timeout_raises_typed_error_fast(fake: FakeX) -> None:
    fake.reply(Reply(body=page([], []), delay=1.5))
    started = time.monotonic()
    with pytest.raises(XTimeoutError) as info:
        client(fake, timeout=0.2, max_attempts=2).search(goal())
    assert time.monotonic() - started < 1.2
    assert info.value.transient
    assert len(fake.seen) == 2


def test_timeout_then_success(fake: FakeX) -> None:
    fake.reply(
        Reply(body=page([], []), delay=1.0),
        Reply(body=page([tweet(ID1, "m")], [video("m")])),
    )
    result = client(fake, timeout=0.2, max_attempts=2).search(goal())
    assert [c.source_id for c in result.candidates] == [ID1]


def test_connection_refused_is_transient() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    source = XApiSource(f"http://127.0.0.1:{port}", TOKEN, timeout=0.5, max_attempts=2,
                        backoff_initial=0.01)  # fmt: skip
    with pytest.raises(XConnectionError):
        source.search(goal())


def test_401_raises_auth_error_without_retry(fake: FakeX) -> None:
    fake.reply(Reply(401, {"title": "Unauthorized", "type": "about:blank", "status": 401}))
    with pytest.raises(XAuthError) as info:
        client(fake).search(goal())
    assert not info.value.transient
    assert len(fake.seen) == 1


@pytest.mark.parametrize(
    ("body", "field_name"),
    [
        (page([tweet(ID1, "m"), {"text": "no id", "created_at": "2026-03-14T15:24:10Z"}],
              [video("m")]), "data[1].id"),
        (page([tweet(ID1, "m")], [{k: v for k, v in video("m").items() if k != "media_key"}]),
         "includes.media[0].media_key"),
        (page([tweet(ID1, "m")], [video("m", variants=None) | {"variants": "nope"}]),
         "includes.media[0].variants"),
        ({"data": {"id": ID1}, "meta": {"result_count": 1}}, "data"),
        (page([tweet(ID1, "m", created_at=None)], [video("m")]), "data[0].created_at"),
        # numbers BSON cannot hold: refused at parse time, not as an OverflowError later
        (page([tweet(ID1, "m")], [video("m") | {"width": 10**30}]), "includes.media[0].width"),
        (page([tweet(ID1, "m")], [video("m") | {"duration_ms": float("inf")}]),
         "includes.media[0].duration_ms"),
    ],
)  # fmt: skip
def test_malformed_payload_names_the_field(fake: FakeX, body: Any, field_name: str) -> None:
    fake.reply(Reply(body=body))
    with pytest.raises(PayloadError) as info:
        client(fake).search(goal())
    assert info.value.field == field_name
    assert field_name in str(info.value)
    assert len(fake.seen) == 1  # permanent: not retried


def test_malformed_second_page_fails_whole_search(fake: FakeX) -> None:
    fake.reply(
        Reply(body=page([tweet(ID1, "a")], [video("a")], next_token="p2")),
        Reply(body=page([tweet(ID2, "b")], [{"type": "video", "variants": []}])),
    )
    with pytest.raises(PayloadError) as info:
        client(fake).search(goal())
    assert info.value.field == "includes.media[0].media_key"


def test_non_json_body_is_payload_error(fake: FakeX) -> None:
    fake.reply(Reply(body=b"<html>maintenance</html>"))
    with pytest.raises(PayloadError) as info:
        client(fake).search(goal())
    assert info.value.field == "body"


def test_registry_builds_the_x_source(fake: FakeX) -> None:
    fake.reply(Reply(body=page([tweet(ID1, "m")], [video("m")])))
    source = create_source("x", base_url=fake.url, bearer_token=TOKEN, timeout=2.0,
                           max_attempts=1)  # fmt: skip
    assert source.name == "x"
    assert [c.source_id for c in source.search(goal()).candidates] == [ID1]
    assert GOAL_TIME - timedelta(minutes=1) < source.search(goal()).candidates[0].posted_at
