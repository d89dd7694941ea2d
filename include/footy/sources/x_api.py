"""X API v2 recent-search client, as a :class:`~footy.sources.base.ClipSource` named ``"x"``.

Behaviour the pipeline relies on:

* every request has a timeout; timeouts, connection errors and 5xx are retried a bounded
  number of times with exponential backoff (tenacity), then raised as a ``TransientError``;
* 429 is never slept on: :class:`XRateLimitedError` carries ``reset_at`` (from
  ``x-rate-limit-reset``) so the caller schedules the goal's next attempt after it;
* 401/403 raise :class:`XAuthError` (permanent); other 4xx :class:`XRequestError`;
* the payload is validated as a whole before anything is returned: a missing ``data[].id``,
  a media item without ``media_key`` or a non-list ``variants`` raises ``PayloadError`` naming
  the field, and the search returns nothing partial;
* posts whose id is not 18-19 digits (truncated links) and posts without an MP4 video are
  returned as ``rejected`` with reason codes, not raised.

When ``since_id`` is given it replaces ``start_time`` (it is newer by construction).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import requests
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
)

from footy import int64
from footy.errors import CredentialsRejectedError, PayloadError
from footy.sources.base import (
    Candidate,
    GoalQuery,
    MediaRules,
    RateLimit,
    Rejected,
    SearchResult,
    SourceApiError,
    SourceConnectionError,
    SourceRateLimitedError,
    SourceRequestError,
    SourceServerError,
    SourceTimeoutError,
    register_source,
)
from footy.sources.gates import DEFAULT_GATES, NO_MP4_VARIANT, NO_VIDEO, check_id
from footy.sources.query import QueryConfig, build_query

SOURCE_NAME = "x"
SEARCH_PATH = "/2/tweets/search/recent"
EXPANSIONS = "attachments.media_keys"
MEDIA_FIELDS = "type,duration_ms,variants,width,height,preview_image_url"
TWEET_FIELDS = "created_at,public_metrics,lang"
PAYLOAD_SOURCE = "x_api"
RATE_LIMIT_FALLBACK = timedelta(seconds=60)


class XApiError(SourceApiError):
    """Base of retryable X API failures (timeouts, connection errors, 5xx)."""


class XTimeoutError(XApiError, SourceTimeoutError):
    pass


class XConnectionError(XApiError, SourceConnectionError):
    pass


class XServerError(XApiError, SourceServerError):
    pass


class XRateLimitedError(SourceRateLimitedError):
    """429: try again at ``reset_at`` (UTC aware); never slept on inside the client."""

    def __init__(self, reset_at: datetime, message: str = "") -> None:
        super().__init__(reset_at, message or f"X API rate limited until {reset_at.isoformat()}")


class XAuthError(CredentialsRejectedError):
    """401/403: the bearer token is wrong or lacks access."""


class XRequestError(SourceRequestError):
    """Any other 4xx (a malformed query, for example)."""


def post_url(tweet_id: str) -> str:
    return f"https://x.com/i/status/{tweet_id}"


def _parse_int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value.strip())
    except ValueError:
        return None


def parse_rate_limit(headers: Mapping[str, str]) -> RateLimit:
    reset = _parse_int(headers.get("x-rate-limit-reset"))
    return RateLimit(
        limit=_parse_int(headers.get("x-rate-limit-limit")),
        remaining=_parse_int(headers.get("x-rate-limit-remaining")),
        reset_at=datetime.fromtimestamp(reset, UTC) if reset is not None else None,
    )


def _iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _parse_time(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise PayloadError(field, "is missing or not a string", source=PAYLOAD_SOURCE)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise PayloadError(field, f"is not an ISO time: {value!r}", source=PAYLOAD_SOURCE) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


@dataclass(frozen=True)
class Variant:
    url: str
    content_type: str
    bit_rate: int | None


@dataclass(frozen=True)
class Media:
    media_key: str
    type: str
    width: int | None
    height: int | None
    duration_ms: int | None
    variants: tuple[Variant, ...]

    def best_mp4(self) -> Variant | None:
        """The MP4 variant with the highest bitrate (unknown bitrate ranks last)."""
        mp4 = [v for v in self.variants if v.content_type == "video/mp4" and v.url]
        if not mp4:
            return None
        return max(mp4, key=lambda v: v.bit_rate if v.bit_rate is not None else -1)


def _opt_int(item: Mapping[str, Any], key: str, field: str) -> int | None:
    value = item.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PayloadError(field, f"is not a number: {value!r}", source=PAYLOAD_SOURCE)
    if not int64.fits(value):
        raise PayloadError(field, f"is {value}, out of the range storage can hold",
                           source=PAYLOAD_SOURCE)  # fmt: skip
    return int(value)


def _parse_media(raw: Any, index: int) -> Media:
    where = f"includes.media[{index}]"
    if not isinstance(raw, dict):
        raise PayloadError(where, "is not an object", source=PAYLOAD_SOURCE)
    key = raw.get("media_key")
    if not isinstance(key, str) or not key:
        raise PayloadError(f"{where}.media_key", "is missing", source=PAYLOAD_SOURCE)
    variants_raw = raw.get("variants", [])
    if not isinstance(variants_raw, list):
        raise PayloadError(f"{where}.variants", "is not a list", source=PAYLOAD_SOURCE)
    variants: list[Variant] = []
    for j, v in enumerate(variants_raw):
        vwhere = f"{where}.variants[{j}]"
        if not isinstance(v, dict):
            raise PayloadError(vwhere, "is not an object", source=PAYLOAD_SOURCE)
        variants.append(
            Variant(
                url=str(v.get("url") or ""),
                content_type=str(v.get("content_type") or ""),
                bit_rate=_opt_int(v, "bit_rate", f"{vwhere}.bit_rate"),
            )
        )
    return Media(
        media_key=key,
        type=str(raw.get("type") or ""),
        width=_opt_int(raw, "width", f"{where}.width"),
        height=_opt_int(raw, "height", f"{where}.height"),
        duration_ms=_opt_int(raw, "duration_ms", f"{where}.duration_ms"),
        variants=tuple(variants),
    )


@dataclass(frozen=True)
class _Page:
    tweets: list[dict[str, Any]]
    media: dict[str, Media]
    newest_id: str | None
    next_token: str | None


def parse_page(body: Any) -> _Page:
    """Validate one response body; raises PayloadError naming the first bad field."""
    if not isinstance(body, dict):
        raise PayloadError("body", "is not a JSON object", source=PAYLOAD_SOURCE)
    meta = body.get("meta", {})
    if not isinstance(meta, dict):
        raise PayloadError("meta", "is not an object", source=PAYLOAD_SOURCE)
    data = body.get("data")
    if data is None:
        if "meta" not in body:
            errors = body.get("errors")
            problem = f"is missing (errors: {errors!r})" if errors else "is missing"
            raise PayloadError("data", problem, source=PAYLOAD_SOURCE)
        data = []
    if not isinstance(data, list):
        raise PayloadError("data", "is not a list", source=PAYLOAD_SOURCE)
    tweets: list[dict[str, Any]] = []
    for i, tweet in enumerate(data):
        if not isinstance(tweet, dict):
            raise PayloadError(f"data[{i}]", "is not an object", source=PAYLOAD_SOURCE)
        tid = tweet.get("id")
        if not isinstance(tid, str) or not tid:
            raise PayloadError(f"data[{i}].id", "is missing", source=PAYLOAD_SOURCE)
        _parse_time(tweet.get("created_at"), f"data[{i}].created_at")
        attachments = tweet.get("attachments", {})
        if not isinstance(attachments, dict):
            raise PayloadError(f"data[{i}].attachments", "is not an object", source=PAYLOAD_SOURCE)
        keys = attachments.get("media_keys", [])
        if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
            raise PayloadError(
                f"data[{i}].attachments.media_keys", "is not a list of strings",
                source=PAYLOAD_SOURCE,
            )  # fmt: skip
        tweets.append(tweet)
    includes = body.get("includes", {})
    if not isinstance(includes, dict):
        raise PayloadError("includes", "is not an object", source=PAYLOAD_SOURCE)
    media_raw = includes.get("media", [])
    if not isinstance(media_raw, list):
        raise PayloadError("includes.media", "is not a list", source=PAYLOAD_SOURCE)
    media = {m.media_key: m for m in (_parse_media(raw, k) for k, raw in enumerate(media_raw))}
    next_token = meta.get("next_token")
    if next_token is not None and not isinstance(next_token, str):
        raise PayloadError("meta.next_token", "is not a string", source=PAYLOAD_SOURCE)
    newest = meta.get("newest_id")
    return _Page(
        tweets=tweets,
        media=media,
        newest_id=str(newest) if newest is not None else None,
        next_token=next_token or None,
    )


def _popularity(tweet: Mapping[str, Any]) -> int:
    metrics = tweet.get("public_metrics")
    if not isinstance(metrics, dict):
        return 0
    total = 0
    for key in ("like_count", "retweet_count", "quote_count", "reply_count"):
        value = metrics.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            total += value
    return min(total, int64.INT64_MAX)  # a ranking number: capped, never refused


def _to_candidate(tweet: Mapping[str, Any], media: Mapping[str, Media]) -> Candidate | Rejected:
    tid = str(tweet["id"])
    url = post_url(tid)
    text = str(tweet.get("text") or "")
    id_reasons = check_id(SOURCE_NAME, tid, DEFAULT_GATES)
    if id_reasons:
        return Rejected(SOURCE_NAME, tid, tuple(id_reasons), url, f"id has {len(tid)} digits")
    videos = [
        media[k]
        for k in tweet.get("attachments", {}).get("media_keys", [])
        if k in media and media[k].type == "video"
    ]
    if not videos:
        return Rejected(SOURCE_NAME, tid, (NO_VIDEO,), url, "no video media in includes")
    for video in videos:
        best = video.best_mp4()
        if best is None:
            continue
        return Candidate(
            source=SOURCE_NAME,
            source_id=tid,
            post_url=url,
            media_url=best.url,
            posted_at=_parse_time(tweet.get("created_at"), "created_at"),
            width=video.width,
            height=video.height,
            duration_s=video.duration_ms / 1000.0 if video.duration_ms is not None else None,
            bitrate=best.bit_rate,
            text=text,
            popularity=_popularity(tweet),
        )
    return Rejected(SOURCE_NAME, tid, (NO_MP4_VARIANT,), url, "video has no video/mp4 variant")


def _max_id(a: str | None, b: str | None) -> str | None:
    if a is None or not a.isdigit():
        return b if b is not None and b.isdigit() else a
    if b is None or not b.isdigit():
        return a
    return a if int(a) >= int(b) else b


class XApiSource:
    """X API v2 recent search.

    ``timeout`` is seconds (or a ``(connect, read)`` tuple) per request. ``max_attempts``
    bounds tries per request for timeouts, connection errors and 5xx. ``max_pages`` bounds
    how many ``meta.next_token`` pages one search follows.
    """

    name = SOURCE_NAME

    def __init__(
        self,
        base_url: str,
        bearer_token: str,
        timeout: float | tuple[float, float] = 10.0,
        max_attempts: int = 3,
        session: requests.Session | None = None,
        *,
        max_results: int = 100,
        max_pages: int = 5,
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
        query_config: QueryConfig | None = None,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is empty")
        if not bearer_token:
            raise ValueError("bearer_token is empty")
        if not 10 <= max_results <= 100:
            raise ValueError("max_results must be within 10..100 (X API limit)")
        if max_attempts < 1 or max_pages < 1:
            raise ValueError("max_attempts and max_pages must be >= 1")
        self.base_url = base_url.rstrip("/")
        self.bearer_token = bearer_token
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.session = session or requests.Session()
        self.max_results = max_results
        self.max_pages = max_pages
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.query_config = query_config or QueryConfig()

    # -- public -------------------------------------------------------------------------

    def search(self, goal: GoalQuery, *, since_id: str | None = None) -> SearchResult:
        built = build_query(goal, self.query_config)
        return self.search_query(built.query, start_time=built.start_time, since_id=since_id)

    def search_query(
        self,
        query: str,
        *,
        start_time: datetime | None = None,
        since_id: str | None = None,
        max_pages: int | None = None,
    ) -> SearchResult:
        """Run a raw query across pages; all pages are validated before anything returns."""
        params: dict[str, str] = {
            "query": query,
            "max_results": str(self.max_results),
            "expansions": EXPANSIONS,
            "media.fields": MEDIA_FIELDS,
            "tweet.fields": TWEET_FIELDS,
        }
        if since_id:
            params["since_id"] = since_id
        elif start_time is not None:
            params["start_time"] = _iso(start_time)

        candidates: list[Candidate] = []
        rejected: list[Rejected] = []
        seen: set[str] = set()
        newest: str | None = None
        rate: RateLimit | None = None
        token: str | None = None
        pages = 0
        limit = max_pages or self.max_pages
        while True:
            page_params = dict(params)
            if token:
                page_params["next_token"] = token
            body, rate = self._get(page_params)
            page = parse_page(body)
            pages += 1
            for tid in [page.newest_id, *(str(t["id"]) for t in page.tweets)]:
                # Only well-formed ids move since_id: a 20-digit garbage id would skip all.
                if tid is not None and not check_id(SOURCE_NAME, tid, DEFAULT_GATES):
                    newest = _max_id(newest, tid)
            for tweet in page.tweets:
                tid = str(tweet["id"])
                if tid in seen:
                    continue
                seen.add(tid)
                item = _to_candidate(tweet, page.media)
                (candidates if isinstance(item, Candidate) else rejected).append(item)
            token = page.next_token
            if not token or pages >= limit:
                break
        return SearchResult(
            source=SOURCE_NAME,
            query=query,
            candidates=tuple(candidates),
            rejected=tuple(rejected),
            newest_id=newest,
            next_token=token,
            pages=pages,
            rate_limit=rate,
        )

    # -- HTTP ---------------------------------------------------------------------------

    def _get(self, params: Mapping[str, str]) -> tuple[Any, RateLimit]:
        retrying = Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential(multiplier=self.backoff_initial, max=self.backoff_max),
            retry=retry_if_exception_type(XApiError),
            reraise=True,
        )
        return retrying(self._get_once, params)

    def _get_once(self, params: Mapping[str, str]) -> tuple[Any, RateLimit]:
        url = self.base_url + SEARCH_PATH
        headers = {"Authorization": f"Bearer {self.bearer_token}"}
        try:
            resp = self.session.get(url, params=params, headers=headers, timeout=self.timeout)
        except requests.Timeout as exc:
            raise XTimeoutError(f"X API timed out after {self.timeout}s: {exc}") from exc
        except requests.ConnectionError as exc:
            raise XConnectionError(f"X API connection failed: {exc}") from exc
        except requests.RequestException as exc:
            raise XConnectionError(f"X API request failed: {exc}") from exc
        rate = parse_rate_limit(resp.headers)
        status = resp.status_code
        if status == 429:
            # Without a reset header, retry after a short default rather than at once.
            reset_at = rate.reset_at or datetime.now(UTC) + RATE_LIMIT_FALLBACK
            raise XRateLimitedError(reset_at)
        if status in (401, 403):
            raise XAuthError(f"X API {status}: {_short(resp)}")
        if status >= 500:
            raise XServerError(status, f"X API {status}: {_short(resp)}")
        if status >= 400:
            raise XRequestError(status, f"X API {status}: {_short(resp)}")
        try:
            body = resp.json()
        except ValueError as exc:
            raise PayloadError("body", "is not JSON", source=PAYLOAD_SOURCE) from exc
        return body, rate


def _short(resp: requests.Response, limit: int = 300) -> str:
    text = resp.text or ""
    return text[:limit] + ("..." if len(text) > limit else "")


# Where X serves a post's video; FOOTY_X_MEDIA_HOSTS replaces the list (the stand-in).
MEDIA = MediaRules(hosts=("video.twimg.com", "pbs.twimg.com", "x.com", "twitter.com"),
                   hosts_variable="FOOTY_X_MEDIA_HOSTS")
register_source(SOURCE_NAME, XApiSource, media=MEDIA)
