"""The clip-source interface: what a search needs, what it returns, and a registry by name.

A source (X today, others later) turns a :class:`GoalQuery` into a :class:`SearchResult`:
candidates that could be the goal's clip, plus the posts it rejected on structure alone
(truncated ids, no MP4 variant...). Metadata quality gates live in :mod:`footy.sources.gates`
and are applied by the caller, who knows the goal time.

Nothing here imports Airflow or MongoDB; ``to_document()`` returns plain dicts of BSON-safe
values (str, int, float, None, aware ``datetime``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from footy.errors import ConfigError, PayloadError, PermanentError, TransientError


def _require_utc(value: datetime, name: str) -> datetime:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, got {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware (UTC), got naive {value!r}")
    return value.astimezone(UTC)


class SourceApiError(TransientError):
    """Base of a source's retryable failures (timeouts, connection errors, 5xx)."""


class SourceTimeoutError(SourceApiError):
    pass


class SourceConnectionError(SourceApiError):
    pass


class SourceServerError(SourceApiError):
    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class SourceRequestError(PermanentError):
    """A 4xx other than 401/403/429: the request itself is wrong."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        super().__init__(message)


class SourceRateLimitedError(TransientError):
    """The source's rate limit is spent: try again at ``reset_at`` (UTC aware). A source
    never sleeps on it; the caller moves the goal's next attempt after it."""

    def __init__(self, reset_at: datetime, message: str) -> None:
        self.reset_at = reset_at
        super().__init__(message)


@dataclass(frozen=True)
class Candidate:
    """One post with a video that may show the goal.

    ``source_id`` is the source's own post id (a string: X ids exceed 2**53). ``media_url`` is
    the direct video URL chosen by the source (best MP4 variant for X). Dimensions, duration and
    bitrate are ``None`` when the source did not advertise them.
    """

    source: str
    source_id: str
    post_url: str
    media_url: str
    posted_at: datetime
    width: int | None
    height: int | None
    duration_s: float | None
    bitrate: int | None
    text: str
    popularity: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "posted_at", _require_utc(self.posted_at, "posted_at"))

    @property
    def key(self) -> str:
        """Identity across sources: ``{source}:{source_id}``."""
        return f"{self.source}:{self.source_id}"

    def to_document(self) -> dict[str, Any]:
        """A MongoDB-safe dict (ids as strings, aware UTC datetime, no custom types)."""
        return {
            "source": self.source,
            "source_id": self.source_id,
            "post_url": self.post_url,
            "media_url": self.media_url,
            "posted_at": self.posted_at,
            "width": self.width,
            "height": self.height,
            "duration_s": self.duration_s,
            "bitrate": self.bitrate,
            "text": self.text,
            "popularity": self.popularity,
        }

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> Candidate:
        """Inverse of :meth:`to_document`; naive datetimes (as pymongo returns them) are UTC."""
        try:
            posted_at = doc["posted_at"]
            if isinstance(posted_at, datetime) and posted_at.tzinfo is None:
                posted_at = posted_at.replace(tzinfo=UTC)
            return cls(
                source=str(doc["source"]),
                source_id=str(doc["source_id"]),
                post_url=str(doc["post_url"]),
                media_url=str(doc["media_url"]),
                posted_at=posted_at,
                width=doc.get("width"),
                height=doc.get("height"),
                duration_s=doc.get("duration_s"),
                bitrate=doc.get("bitrate"),
                text=str(doc.get("text", "")),
                popularity=int(doc.get("popularity", 0)),
            )
        except KeyError as exc:
            raise PayloadError(str(exc.args[0]), "is missing", source="candidate") from exc


@dataclass(frozen=True)
class Rejected:
    """A post the source saw but could not turn into a candidate, with stable reason codes."""

    source: str
    source_id: str
    reasons: tuple[str, ...]
    post_url: str = ""
    detail: str = ""

    def to_document(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "source_id": self.source_id,
            "reasons": list(self.reasons),
            "post_url": self.post_url,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class RateLimit:
    """Rate-limit headers of the last response (``None`` where the source sent none)."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: datetime | None = None

    def to_document(self) -> dict[str, Any]:
        return {"limit": self.limit, "remaining": self.remaining, "reset_at": self.reset_at}


@dataclass(frozen=True)
class SearchResult:
    """What one search returned.

    ``newest_id`` is the newest post id seen (pass it back as ``since_id`` next time).
    ``next_token`` is set only when the page limit stopped the search with more pages left.
    """

    source: str
    query: str
    candidates: tuple[Candidate, ...] = ()
    rejected: tuple[Rejected, ...] = ()
    newest_id: str | None = None
    next_token: str | None = None
    pages: int = 0
    rate_limit: RateLimit | None = None

    @property
    def truncated(self) -> bool:
        return self.next_token is not None

    def to_document(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "query": self.query,
            "candidates": [c.to_document() for c in self.candidates],
            "rejected": [r.to_document() for r in self.rejected],
            "newest_id": self.newest_id,
            "next_token": self.next_token,
            "pages": self.pages,
            "rate_limit": self.rate_limit.to_document() if self.rate_limit else None,
        }


@dataclass(frozen=True)
class GoalQuery:
    """What a source needs to search for one goal.

    ``goal_time`` is the best UTC estimate of when the goal happened (kickoff + minute);
    ``team_aliases`` are extra names of the scoring team (merged with configured aliases).
    An empty ``scorer_name`` is a goal whose scorer the feed never named: it is searched by
    both teams' names instead (``opponent_name`` is then required).

    Sources that match posts to goals by what a post says (Reddit titles) also use the
    match-clock ``minute`` + ``stoppage``, ``scores_after`` (the (team, opponent) scores the
    goal can have left; empty when unknown) and ``rivals``: other goals live at the same
    time, so that a post matching two goals is given to neither.
    """

    goal_id: str
    fixture_id: int
    scorer_name: str
    team_name: str
    goal_time: datetime
    minute: int | None = None
    opponent_name: str | None = None
    team_aliases: tuple[str, ...] = field(default=())
    opponent_aliases: tuple[str, ...] = field(default=())
    stoppage: int | None = None
    own_goal: bool = False
    scores_after: tuple[tuple[int, int], ...] = field(default=())
    rivals: tuple[GoalQuery, ...] = field(default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "goal_time", _require_utc(self.goal_time, "goal_time"))
        object.__setattr__(self, "team_aliases", tuple(self.team_aliases))
        object.__setattr__(self, "opponent_aliases", tuple(self.opponent_aliases))
        object.__setattr__(self, "scores_after", tuple(tuple(s) for s in self.scores_after))
        object.__setattr__(self, "rivals", tuple(self.rivals))
        if not self.scorer_name.strip() and not (self.opponent_name or "").strip():
            raise ValueError("scorer_name is empty and there is no opponent_name to search by")
        if not self.team_name.strip():
            raise ValueError("team_name is empty")


@runtime_checkable
class ClipSource(Protocol):
    """A searchable clip source. ``name`` is the registry key and the ``Candidate.source``."""

    name: str

    def search(self, goal: GoalQuery, *, since_id: str | None = None) -> SearchResult: ...


SourceFactory = Callable[..., ClipSource]


@dataclass(frozen=True)
class MediaRules:
    """Where a source's clips may be downloaded from, and how.

    ``hosts`` is the source's own allow-list (a host matches its subdomains too);
    ``hosts_variable`` names the environment variable that replaces it (the stand-ins serve
    every clip from one loopback address). ``split_streams``: the clips come as a manifest of
    separate video and audio files, to be merged after download.
    """

    hosts: tuple[str, ...]
    hosts_variable: str
    split_streams: bool = False


_REGISTRY: dict[str, SourceFactory] = {}
_MEDIA: dict[str, MediaRules] = {}
# Built-in sources, imported on first use so that importing the registry stays cheap.
_BUILTIN: dict[str, str] = {"x": "footy.sources.x_api", "reddit": "footy.sources.reddit"}


def register_source(name: str, factory: SourceFactory, *, media: MediaRules | None = None,
                    replace: bool = False) -> None:  # fmt: skip
    """Register a factory (usually the class) that builds a source from keyword settings,
    with the rules for downloading its clips (none: its clips cannot be downloaded)."""
    if not name or not name.isidentifier():
        raise ConfigError(f"source name {name!r} is not a valid identifier")
    existing = _REGISTRY.get(name)
    if existing is not None and existing is not factory and not replace:
        raise ConfigError(f"clip source {name!r} is already registered")
    _REGISTRY[name] = factory
    if media is not None:
        _MEDIA[name] = media


def media_rules(name: str) -> MediaRules:
    """The download rules of source ``name``; an unknown source or one without rules gets
    an empty allow-list, which refuses every URL."""
    try:
        get_source_factory(name)
    except ConfigError:
        pass
    fallback = MediaRules(hosts=(), hosts_variable=f"FOOTY_{name.upper()}_MEDIA_HOSTS")
    return _MEDIA.get(name) or fallback


def get_source_factory(name: str) -> SourceFactory:
    if name not in _REGISTRY and name in _BUILTIN:
        importlib.import_module(_BUILTIN[name])
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(available_sources()) or "none"
        raise ConfigError(f"unknown clip source {name!r} (known: {known})") from None


def create_source(name: str, **settings: Any) -> ClipSource:
    """Build the source registered as ``name`` with its settings (e.g. base_url, token)."""
    return get_source_factory(name)(**settings)


def available_sources() -> list[str]:
    return sorted(set(_REGISTRY) | set(_BUILTIN))
