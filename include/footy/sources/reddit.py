"""r/soccer on Reddit as a :class:`~footy.sources.base.ClipSource` named ``"reddit"``.

Access is application-only OAuth2: the client-credentials grant at
``{auth_url}/api/v1/access_token`` (HTTP basic with the app's id and secret), then
``{base_url}`` (``https://oauth.reddit.com``) with the bearer token and a descriptive
User-Agent, which Reddit requires (generic agents are throttled). The token is kept until a
minute before it expires; a 401 with a kept token fetches a new one once.

A search reads ``/r/{subreddit}/new`` newest first (``limit=100``, ``after`` paging) down to
the goal's time, or down to the newest post the previous attempt saw (``since_id``, a
fullname such as ``t3_1h2x3yz``; ids grow with time, so an older id ends the read; Reddit's
``before`` anchor is not used because a removed anchor post makes it return nothing). When
the pages run out before the goal's time (a goal confirmed late, on a busy day), the
subreddit search (``/r/{subreddit}/search``, ``restrict_sr``, newest first) covers the rest.

Only goal posts count (:mod:`footy.sources.reddit_titles`); a goal post matching the goal is
a candidate when it carries a video (Reddit-hosted: its DASH manifest, video and audio apart;
or a clip host such as Streamable: the post's link), else rejected as ``no_video``.

Errors as the X client: a timeout, connection error or 5xx is retried a bounded number of
times with backoff, then raised as a ``TransientError``; 429, or a spent
``X-Ratelimit-Remaining`` before the next page, raises :class:`RedditRateLimitedError` with
the reset time (never slept on); rejected credentials raise :class:`RedditAuthError`; a
malformed listing raises ``PayloadError`` naming the field, and nothing partial is returned.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from footy import int64
from footy.errors import ConfigError, CredentialsRejectedError, PayloadError
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
from footy.sources.gates import NO_VIDEO
from footy.sources.query import scorer_terms, strip_accents
from footy.sources.reddit_titles import matching_goal, parse_goal_title

SOURCE_NAME = "reddit"
PAYLOAD_SOURCE = "reddit_api"
TOKEN_PATH = "/api/v1/access_token"
RATE_LIMIT_FALLBACK = timedelta(seconds=60)
TOKEN_MARGIN = timedelta(seconds=60)
# Hosts r/soccer posts goal clips on besides Reddit's own video: the post's link is the clip.
CLIP_HOSTS = ("streamable.com", "streamff.co", "streamin.one", "dubz.link")
_GENERIC_AGENTS = re.compile(r"^(python-requests|curl|wget|mozilla|python-urllib)\b", re.I)


class RedditApiError(SourceApiError):
    """Base of retryable Reddit failures (timeouts, connection errors, 5xx)."""


class RedditTimeoutError(RedditApiError, SourceTimeoutError):
    pass


class RedditConnectionError(RedditApiError, SourceConnectionError):
    pass


class RedditServerError(RedditApiError, SourceServerError):
    pass


class RedditRateLimitedError(SourceRateLimitedError):
    def __init__(self, reset_at: datetime, message: str = "") -> None:
        super().__init__(reset_at,
                         message or f"Reddit API rate limited until {reset_at.isoformat()}")


class RedditAuthError(CredentialsRejectedError):
    """401/403 from the token endpoint or the API: the app's id or secret is wrong."""


class RedditRequestError(SourceRequestError):
    pass


def _float_header(headers: Mapping[str, str], name: str) -> float | None:
    try:
        return float(headers[name])
    except (KeyError, TypeError, ValueError):
        return None


def parse_rate_limit(headers: Mapping[str, str], now: datetime) -> RateLimit:
    """Reddit sends used and remaining as floats and the reset as seconds from now."""
    used = _float_header(headers, "x-ratelimit-used")
    remaining = _float_header(headers, "x-ratelimit-remaining")
    reset = _float_header(headers, "x-ratelimit-reset")
    return RateLimit(
        limit=int(used + remaining) if used is not None and remaining is not None else None,
        remaining=int(remaining) if remaining is not None else None,
        reset_at=now + timedelta(seconds=reset) if reset is not None else None,
    )


# ---- the listing payload ---------------------------------------------------------------------


@dataclass(frozen=True)
class Post:
    """The fields of a ``t3`` child a search needs, validated."""

    id: str
    name: str
    title: str
    created: datetime
    permalink: str
    url: str
    data: Mapping[str, Any]

    @property
    def number(self) -> int:
        return int(self.id, 36)


@dataclass(frozen=True)
class Listing:
    posts: tuple[Post, ...]
    after: str | None


def _require(data: Mapping[str, Any], key: str, kind: type | tuple[type, ...], where: str) -> Any:
    value = data.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise PayloadError(f"{where}.{key}", "is missing or of the wrong type",
                           source=PAYLOAD_SOURCE)  # fmt: skip
    return value


_BASE36 = re.compile(r"^[0-9a-z]{1,13}$")


def parse_listing(body: Any) -> Listing:
    """Validate a Listing; raises PayloadError naming the first bad field."""
    if not isinstance(body, dict) or body.get("kind") != "Listing":
        raise PayloadError("kind", "is not 'Listing'", source=PAYLOAD_SOURCE)
    data = _require(body, "data", dict, "")
    children = _require(data, "children", list, "data")
    after = data.get("after")
    if after is not None and not isinstance(after, str):
        raise PayloadError("data.after", "is not a string", source=PAYLOAD_SOURCE)
    posts = []
    for i, child in enumerate(children):
        where = f"data.children[{i}]"
        if not isinstance(child, dict):
            raise PayloadError(where, "is not an object", source=PAYLOAD_SOURCE)
        if child.get("kind") != "t3":
            continue  # comments or other things: not posts
        post = _require(child, "data", dict, where)
        where += ".data"
        post_id = _require(post, "id", str, where)
        name = _require(post, "name", str, where)
        if not _BASE36.match(post_id) or name != f"t3_{post_id}":
            raise PayloadError(f"{where}.name", f"{name!r} is not the fullname of {post_id!r}",
                               source=PAYLOAD_SOURCE)  # fmt: skip
        created = _require(post, "created_utc", (int, float), where)
        posts.append(Post(
            id=post_id, name=name, title=_require(post, "title", str, where),
            created=datetime.fromtimestamp(float(created), UTC),
            permalink=str(post.get("permalink") or f"/comments/{post_id}/"),
            url=str(post.get("url") or ""), data=post,
        ))  # fmt: skip
    return Listing(posts=tuple(posts), after=after or None)


def _number(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not int64.fits(value):
        return None
    return int(value)


def _host_of(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").lower()
    except ValueError:
        return ""


def _on_clip_host(url: str) -> bool:
    host = _host_of(url)
    return any(host == h or host.endswith("." + h) for h in CLIP_HOSTS)


def _video_of(post: Mapping[str, Any]) -> tuple[str, int | None, int | None, float | None,
                                                int | None] | None:  # fmt: skip
    """(media URL, width, height, duration, bitrate) of the clip a post carries, if any."""
    for holder in (post, *(post.get("crosspost_parent_list") or [])[:1]):
        if not isinstance(holder, Mapping):
            continue
        for key in ("secure_media", "media"):
            media = holder.get(key)
            video = media.get("reddit_video") if isinstance(media, Mapping) else None
            if isinstance(video, Mapping):
                url = video.get("dash_url") or video.get("fallback_url")
                if isinstance(url, str) and url:
                    duration = video.get("duration")
                    kbps = _number(video.get("bitrate_kbps"))
                    return (url, _number(video.get("width")), _number(video.get("height")),
                            float(duration) if _number(duration) is not None else None,
                            kbps * 1000 if kbps is not None else None)  # fmt: skip
        link = holder.get("url")
        if isinstance(link, str) and _on_clip_host(link):
            embed = (holder.get("secure_media") or holder.get("media") or {})
            oembed = embed.get("oembed") if isinstance(embed, Mapping) else None
            oembed = oembed if isinstance(oembed, Mapping) else {}
            return (link, _number(oembed.get("width")), _number(oembed.get("height")),
                    None, None)  # fmt: skip
    return None


def _popularity(post: Mapping[str, Any]) -> int:
    total = sum(max(_number(post.get(k)) or 0, 0) for k in ("score", "num_comments"))
    return min(total, int64.INT64_MAX)


class RedditSource:
    """Goal clips from r/soccer (application-only OAuth2).

    ``timeout`` is seconds (or ``(connect, read)``) per request; ``max_attempts`` bounds the
    tries of one request; ``max_pages`` bounds the pages of ``/new`` one search reads.
    """

    name = SOURCE_NAME
    reads_posts = True  # matches a post to a goal by what it says: it needs the rivals

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str,
        user_agent: str,
        auth_url: str = "https://www.reddit.com",
        timeout: float | tuple[float, float] = 10.0,
        max_attempts: int = 3,
        session: requests.Session | None = None,
        *,
        subreddit: str = "soccer",
        page_size: int = 100,
        max_pages: int = 5,
        lookback: timedelta = timedelta(minutes=2),
        backoff_initial: float = 0.5,
        backoff_max: float = 8.0,
    ) -> None:
        if not base_url or not auth_url:
            raise ConfigError("reddit: base_url and auth_url are required")
        if not client_id or not client_secret:
            raise ConfigError("reddit: client id and secret are required")
        if not user_agent.strip() or _GENERIC_AGENTS.match(user_agent.strip()):
            raise ConfigError(f"reddit: user_agent {user_agent!r} is not descriptive; Reddit "
                              "throttles generic agents (e.g. 'python:footy:1.0 (by /u/you)')")
        if not re.fullmatch(r"[A-Za-z0-9_]{2,21}", subreddit):
            raise ConfigError(f"reddit: subreddit {subreddit!r} is not a subreddit name")
        if max_attempts < 1 or max_pages < 1:
            raise ConfigError("reddit: max_attempts and max_pages must be >= 1")
        if not 1 <= page_size <= 100:
            raise ConfigError("reddit: page_size must be within 1..100 (Reddit's limit)")
        self.base_url = base_url.rstrip("/")
        self.auth_url = auth_url.rstrip("/")
        self.client_id = client_id
        self.client_secret = client_secret
        self.user_agent = user_agent.strip()
        self.timeout = timeout
        self.max_attempts = max_attempts
        self.session = session or requests.Session()
        self.subreddit = subreddit
        self.page_size = page_size
        self.max_pages = max_pages
        self.lookback = lookback
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._token: tuple[str, datetime] | None = None
        self._token_lock = threading.Lock()

    # -- public -------------------------------------------------------------------------

    def search(self, goal: GoalQuery, *, since_id: str | None = None) -> SearchResult:
        oldest = goal.goal_time - self.lookback
        stop_at = _number_of(since_id)
        posts: list[Post] = []
        newest: str | None = None
        after: str | None = None
        pages = 0
        rate: RateLimit | None = None
        reached = False
        while pages < self.max_pages:
            params = {"limit": str(self.page_size), "raw_json": "1"}
            if after:
                params["after"] = after
            body, rate = self._api(f"/r/{self.subreddit}/new", params, rate)
            listing = parse_listing(body)
            pages += 1
            for post in listing.posts:
                if newest is None and (stop_at is None or post.number > stop_at):
                    newest = post.name  # never older than what the last attempt saw
                if post.created < oldest or (stop_at is not None and post.number <= stop_at):
                    reached = True
                    break
                posts.append(post)
            after = listing.after
            if reached or not after:
                reached = True
                break
        query = f"r/{self.subreddit}/new"
        if not reached:  # the goal is older than the pages read: search for it
            terms = _search_terms(goal)
            body, rate = self._api(f"/r/{self.subreddit}/search", {
                "q": terms, "restrict_sr": "1", "sort": "new", "t": "day", "limit": "100",
                "raw_json": "1"}, rate)  # fmt: skip
            pages += 1
            seen = {p.id for p in posts}
            posts += [p for p in parse_listing(body).posts
                      if p.id not in seen and p.created >= oldest]  # fmt: skip
            query += f" + search {terms!r}"
        candidates, rejected = self._goal_posts(posts, goal)
        return SearchResult(source=SOURCE_NAME, query=query, candidates=tuple(candidates),
                            rejected=tuple(rejected), newest_id=newest or since_id,
                            next_token=None, pages=pages, rate_limit=rate)  # fmt: skip

    def _goal_posts(self, posts: list[Post], goal: GoalQuery
                    ) -> tuple[list[Candidate], list[Rejected]]:  # fmt: skip
        candidates: list[Candidate] = []
        rejected: list[Rejected] = []
        for post in posts:
            parsed = parse_goal_title(post.title)
            if parsed is None or not matching_goal(parsed, goal):
                continue
            url = "https://www.reddit.com" + post.permalink
            video = _video_of(post.data)
            if video is None:
                rejected.append(Rejected(SOURCE_NAME, post.id, (NO_VIDEO,), url,
                                         f"no video behind {post.url or 'the post'}"))
                continue
            media_url, width, height, duration, bitrate = video
            candidates.append(Candidate(
                source=SOURCE_NAME, source_id=post.id, post_url=url, media_url=media_url,
                posted_at=post.created, width=width, height=height, duration_s=duration,
                bitrate=bitrate, text=post.title, popularity=_popularity(post.data),
            ))  # fmt: skip
        return candidates, rejected

    # -- HTTP ---------------------------------------------------------------------------

    def _retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=wait_exponential(multiplier=self.backoff_initial, max=self.backoff_max),
            retry=retry_if_exception_type(RedditApiError),
            reraise=True,
        )

    def _api(self, path: str, params: Mapping[str, str],
             previous: RateLimit | None) -> tuple[Any, RateLimit]:  # fmt: skip
        if previous is not None and previous.remaining is not None and previous.remaining < 1:
            reset_at = previous.reset_at or datetime.now(UTC) + RATE_LIMIT_FALLBACK
            raise RedditRateLimitedError(reset_at, "Reddit API rate limit spent until "
                                         f"{reset_at.isoformat()}")  # fmt: skip
        return self._retrying()(self._api_once, path, params)

    def _api_once(self, path: str, params: Mapping[str, str]) -> tuple[Any, RateLimit]:
        for fresh in (False, True):
            token = self._access_token(renew=fresh)
            resp = self._send("GET", self.base_url + path, params=params,
                              headers={"Authorization": f"bearer {token}"})  # fmt: skip
            if resp.status_code != 401:
                break
            self._token = None  # expired or revoked: fetch a new one, once
        rate = parse_rate_limit(resp.headers, datetime.now(UTC))
        _raise_for_status(resp, rate, "Reddit API")
        try:
            return resp.json(), rate
        except ValueError as exc:
            raise PayloadError("body", "is not JSON", source=PAYLOAD_SOURCE) from exc

    def _access_token(self, *, renew: bool = False) -> str:
        with self._token_lock:
            now = datetime.now(UTC)
            if self._token is not None and not renew and self._token[1] > now:
                return self._token[0]
            resp = self._send("POST", self.auth_url + TOKEN_PATH,
                              data={"grant_type": "client_credentials"},
                              auth=(self.client_id, self.client_secret))  # fmt: skip
            _raise_for_status(resp, parse_rate_limit(resp.headers, now), "Reddit token endpoint")
            try:
                body = resp.json()
            except ValueError as exc:
                raise PayloadError("body", "is not JSON", source="reddit_token") from exc
            token = body.get("access_token") if isinstance(body, dict) else None
            if not isinstance(token, str) or not token:
                error = body.get("error") if isinstance(body, dict) else None
                if error:  # Reddit answers 200 {"error": "invalid_grant"} to some bad secrets
                    raise RedditAuthError(f"Reddit token endpoint refused: {error}")
                raise PayloadError("access_token", "is missing", source="reddit_token")
            lifetime = _number(body.get("expires_in")) or 3600
            self._token = (token, now + timedelta(seconds=lifetime) - TOKEN_MARGIN)
            return token

    def _send(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        headers = {"User-Agent": self.user_agent, **kwargs.pop("headers", {})}
        try:
            return self.session.request(method, url, headers=headers, timeout=self.timeout,
                                        **kwargs)  # fmt: skip
        except requests.Timeout as exc:
            raise RedditTimeoutError(f"Reddit timed out after {self.timeout}s: {exc}") from exc
        except requests.RequestException as exc:
            raise RedditConnectionError(f"Reddit request failed: {exc}") from exc


def _raise_for_status(resp: requests.Response, rate: RateLimit, what: str) -> None:
    status = resp.status_code
    text = (resp.text or "")[:300]
    if status == 429:
        raise RedditRateLimitedError(rate.reset_at or datetime.now(UTC) + RATE_LIMIT_FALLBACK)
    if status in (401, 403):
        raise RedditAuthError(f"{what} {status}: {text}")
    if status >= 500:
        raise RedditServerError(status, f"{what} {status}: {text}")
    if status >= 400:
        raise RedditRequestError(status, f"{what} {status}: {text}")


def _number_of(fullname: str | None) -> int | None:
    if not fullname:
        return None
    post_id = fullname.removeprefix("t3_")
    return int(post_id, 36) if _BASE36.match(post_id) else None


def _search_terms(goal: GoalQuery) -> str:
    """Reddit search words for a goal: the scorer's surname (or the opponent) and the team."""
    first = scorer_terms(goal.scorer_name)[:1] if goal.scorer_name.strip() else []
    words = [*first, strip_accents(goal.team_name)]
    if not first and goal.opponent_name:
        words.append(strip_accents(goal.opponent_name))
    return " ".join(f'"{w}"' if " " in w else w for w in words)


# Reddit's own video host and the clip hosts r/soccer links to; FOOTY_REDDIT_MEDIA_HOSTS
# replaces the list (the stand-in). Reddit video comes as DASH: video and audio apart.
MEDIA = MediaRules(hosts=("v.redd.it", *CLIP_HOSTS), hosts_variable="FOOTY_REDDIT_MEDIA_HOSTS",
                   split_streams=True)
register_source(SOURCE_NAME, RedditSource, media=MEDIA)
