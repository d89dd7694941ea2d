"""API-Football v3 client and payload validation (no Airflow, no MongoDB).

Two layers:

* ``parse_fixture(item, where=...)`` / ``parse_event(item, where=...)`` turn one raw
  ``response[]`` item into frozen dataclasses, raising :class:`PayloadError` that names the
  offending field path (``response[3].fixture.status.short``). Missing or wrongly typed
  required fields are never defaulted.
* :class:`ApiFootballClient` talks HTTP: header ``x-apisports-key``, (connect, read) timeouts,
  bounded exponential-backoff retries (tenacity) on timeouts, connection errors, 5xx, 429 and
  errors-in-200 ``rateLimit``; honours ``Retry-After`` and pauses when
  ``X-RateLimit-Remaining`` reaches 0. ``errors`` inside an HTTP 200 become typed errors.

Listing methods return a :class:`FixtureBatch` ``(fixtures, errors)``: one malformed fixture is
reported on its own (``errors`` holds ``(fixture_id or "response[i]", PayloadError)``) and never
hides the others; a malformed *envelope* still raises.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date as date_cls
from datetime import datetime
from typing import Any, NamedTuple

import requests
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_after_delay,
)

from footy import int64
from footy.errors import ConfigError, PayloadError, PermanentError, TransientError

log = logging.getLogger(__name__)

SOURCE = "api-football"
DEFAULT_BASE_URL = "https://v3.football.api-sports.io"
MAX_IDS_PER_CALL = 20
MAX_PAGES = 100


# --------------------------------------------------------------------------------------------
# Typed errors
# --------------------------------------------------------------------------------------------


class ApiAuthError(PermanentError):
    """The key was refused (errors ``{"token": ...}``, HTTP 401/403)."""


class ApiPlanError(PermanentError):
    """The subscription plan does not cover the request (errors ``{"plan": ...}``)."""


class ApiAccessError(PermanentError):
    """The account cannot access the API (errors ``{"access": ...}``: suspended, unpaid)."""


class ApiRequestError(PermanentError):
    """Any other refusal: parameter errors (``{"season": ...}``), HTTP 4xx other than 429."""


class ApiRateLimitError(TransientError):
    """Minute or day quota spent (HTTP 429, errors ``{"rateLimit"|"requests": ...}``)."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class ApiTimeoutError(TransientError):
    """Connect or read timeout."""


class ApiUnavailableError(TransientError):
    """5xx or connection failure, still failing after the retries."""


# --------------------------------------------------------------------------------------------
# Dataclasses
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Event:
    """One ``events[]`` item. ``player_id``/``player_name`` may both be None in real data."""

    elapsed: int
    extra: int | None
    team_id: int
    team_name: str | None
    player_id: int | None
    player_name: str | None
    assist_id: int | None
    assist_name: str | None
    type: str
    detail: str | None
    comments: str | None


@dataclass(frozen=True)
class Fixture:
    """One ``response[]`` item of ``/fixtures``.

    ``events`` is None when the payload had no ``events`` key (``/fixtures?date=`` listings)
    and a tuple (possibly empty) when it did (``/fixtures?ids=``).
    """

    id: int
    date: str
    timestamp: int | None
    status_short: str
    status_long: str | None
    elapsed: int | None
    extra: int | None
    league_id: int
    league_name: str | None
    league_season: int | None
    home_team_id: int
    home_team_name: str | None
    away_team_id: int
    away_team_name: str | None
    goals_home: int | None
    goals_away: int | None
    events: tuple[Event, ...] | None = None

    @property
    def kickoff(self) -> datetime:
        """``date`` as an aware datetime (validated at parse time)."""
        return datetime.fromisoformat(self.date)


class FixtureBatch(NamedTuple):
    """Good fixtures plus per-fixture errors ``(fixture_id or "response[i]", PayloadError)``."""

    fixtures: list[Fixture]
    errors: list[tuple[int | str, PayloadError]]


# --------------------------------------------------------------------------------------------
# Parsing
# --------------------------------------------------------------------------------------------

_MISSING = object()


def _path(where: str, field: str) -> str:
    return f"{where}.{field}" if where else field


def _get(obj: Any, key: str, where: str) -> Any:
    """Value at ``key`` of a dict; ``_MISSING`` when absent. ``obj`` must be a dict."""
    if not isinstance(obj, dict):
        raise PayloadError(where or "<root>", f"is {type(obj).__name__}, expected an object",
                           source=SOURCE)
    return obj.get(key, _MISSING)


def _obj(obj: Any, key: str, where: str, *, required: bool = True) -> dict[str, Any] | None:
    value = _get(obj, key, where)
    path = _path(where, key)
    if value is _MISSING or value is None:
        if required:
            raise PayloadError(path, "is missing", source=SOURCE)
        return None
    if not isinstance(value, dict):
        raise PayloadError(path, f"is {type(value).__name__}, expected an object", source=SOURCE)
    return value


def _int(obj: Any, key: str, where: str, *, required: bool) -> int | None:
    value = _get(obj, key, where)
    path = _path(where, key)
    if value is _MISSING or value is None:
        if required:
            raise PayloadError(path, "is missing", source=SOURCE)
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayloadError(path, f"is {value!r}, expected an integer", source=SOURCE)
    if not int64.fits(value):
        raise PayloadError(path, f"is {value}, out of the range storage can hold", source=SOURCE)
    return value


def _str(obj: Any, key: str, where: str, *, required: bool) -> str | None:
    value = _get(obj, key, where)
    path = _path(where, key)
    if value is _MISSING or value is None or (required and value == ""):
        if required:
            raise PayloadError(path, "is missing", source=SOURCE)
        return None
    if not isinstance(value, str):
        raise PayloadError(path, f"is {value!r}, expected a string", source=SOURCE)
    return value


def parse_event(item: Any, where: str = "event") -> Event:
    """Validate one event. Requires ``type``, ``team.id`` and ``time.elapsed``."""
    time_ = _obj(item, "time", where)
    team = _obj(item, "team", where)
    player = _obj(item, "player", where, required=False) or {}
    assist = _obj(item, "assist", where, required=False) or {}
    return Event(
        elapsed=_int(time_, "elapsed", _path(where, "time"), required=True),  # type: ignore[arg-type]
        extra=_int(time_, "extra", _path(where, "time"), required=False),
        team_id=_int(team, "id", _path(where, "team"), required=True),  # type: ignore[arg-type]
        team_name=_str(team, "name", _path(where, "team"), required=False),
        player_id=_int(player, "id", _path(where, "player"), required=False),
        player_name=_str(player, "name", _path(where, "player"), required=False),
        assist_id=_int(assist, "id", _path(where, "assist"), required=False),
        assist_name=_str(assist, "name", _path(where, "assist"), required=False),
        type=_str(item, "type", where, required=True),  # type: ignore[arg-type]
        detail=_str(item, "detail", where, required=False),
        comments=_str(item, "comments", where, required=False),
    )


def parse_fixture(item: Any, where: str = "") -> Fixture:
    """Validate one ``/fixtures`` response item; ``where`` prefixes error paths.

    Raises :class:`PayloadError` naming the field, e.g. ``response[3].fixture.status.short``.
    """
    fx = _obj(item, "fixture", where)
    fx_where = _path(where, "fixture")
    status = _obj(fx, "status", fx_where)
    st_where = _path(fx_where, "status")
    league = _obj(item, "league", where)
    lg_where = _path(where, "league")
    teams = _obj(item, "teams", where)
    tm_where = _path(where, "teams")
    home = _obj(teams, "home", tm_where)
    away = _obj(teams, "away", tm_where)
    goals = _obj(item, "goals", where, required=False) or {}
    g_where = _path(where, "goals")

    fixture_id = _int(fx, "id", fx_where, required=True)
    date = _str(fx, "date", fx_where, required=True)
    try:
        parsed = datetime.fromisoformat(date)  # type: ignore[arg-type]
    except ValueError:
        raise PayloadError(_path(fx_where, "date"), f"is {date!r}, not an ISO timestamp",
                           source=SOURCE) from None
    if parsed.tzinfo is None:
        raise PayloadError(_path(fx_where, "date"), f"is {date!r}, without a UTC offset",
                           source=SOURCE)

    events: tuple[Event, ...] | None = None
    raw_events = _get(item, "events", where)
    if raw_events is not _MISSING and raw_events is not None:
        if not isinstance(raw_events, list):
            raise PayloadError(_path(where, "events"),
                               f"is {type(raw_events).__name__}, expected a list", source=SOURCE)
        events = tuple(
            parse_event(ev, f"{_path(where, 'events')}[{i}]") for i, ev in enumerate(raw_events)
        )

    return Fixture(
        id=fixture_id,  # type: ignore[arg-type]
        date=date,  # type: ignore[arg-type]
        timestamp=_int(fx, "timestamp", fx_where, required=False),
        status_short=_str(status, "short", st_where, required=True),  # type: ignore[arg-type]
        status_long=_str(status, "long", st_where, required=False),
        elapsed=_int(status, "elapsed", st_where, required=False),
        extra=_int(status, "extra", st_where, required=False),
        league_id=_int(league, "id", lg_where, required=True),  # type: ignore[arg-type]
        league_name=_str(league, "name", lg_where, required=False),
        league_season=_int(league, "season", lg_where, required=False),
        home_team_id=_int(home, "id", _path(tm_where, "home"), required=True),  # type: ignore[arg-type]
        home_team_name=_str(home, "name", _path(tm_where, "home"), required=False),
        away_team_id=_int(away, "id", _path(tm_where, "away"), required=True),  # type: ignore[arg-type]
        away_team_name=_str(away, "name", _path(tm_where, "away"), required=False),
        goals_home=_int(goals, "home", g_where, required=False),
        goals_away=_int(goals, "away", g_where, required=False),
        events=events,
    )


def _fixture_key(item: Any, where: str) -> int | str:
    """The fixture id for an error report when it is readable, else the item's path."""
    if isinstance(item, dict) and isinstance(item.get("fixture"), dict):
        fid = item["fixture"].get("id")
        if isinstance(fid, int) and not isinstance(fid, bool) and int64.fits(fid):
            return fid
    return where


def parse_fixtures(response: Sequence[Any], where: str = "response") -> FixtureBatch:
    """Parse each item independently; collect per-item PayloadErrors."""
    batch = FixtureBatch([], [])
    for i, item in enumerate(response):
        path = f"{where}[{i}]"
        try:
            batch.fixtures.append(parse_fixture(item, path))
        except PayloadError as exc:
            batch.errors.append((_fixture_key(item, path), exc))
    return batch


def check_envelope(body: Any, endpoint: str = "") -> tuple[list[Any], dict[str, int]]:
    """Validate the envelope and raise the typed error for non-empty ``errors``.

    Returns ``(response, paging)``; ``paging`` is ``{"current": c, "total": t}``.
    """
    if not isinstance(body, dict):
        raise PayloadError("<body>", f"is {type(body).__name__}, expected an object",
                           source=f"{SOURCE} {endpoint}".strip())
    errors = body.get("errors", _MISSING)
    if errors is _MISSING:
        raise PayloadError("errors", "is missing", source=SOURCE)
    raise_for_errors(errors)
    response = body.get("response", _MISSING)
    if response is _MISSING or not isinstance(response, list):
        raise PayloadError("response", "is missing or not a list", source=SOURCE)
    paging_raw = body.get("paging") or {"current": 1, "total": 1}
    current = _int(paging_raw, "current", "paging", required=True)
    total = _int(paging_raw, "total", "paging", required=True)
    if current < 1 or total < 0:  # type: ignore[operator]
        raise PayloadError("paging", f"is {paging_raw!r}, not a valid page", source=SOURCE)
    return response, {"current": current, "total": total}  # type: ignore[dict-item]


def raise_for_errors(errors: Any) -> None:
    """Map the ``errors`` member of an HTTP 200 body to a typed error (no-op when empty)."""
    if errors in ([], {}, None, ""):
        return
    if isinstance(errors, list):
        raise ApiRequestError(f"API-Football errors: {errors!r}")
    if not isinstance(errors, dict):
        raise PayloadError("errors", f"is {errors!r}, expected a list or object", source=SOURCE)
    text = "; ".join(f"{k}: {v}" for k, v in errors.items())
    keys = {str(k).lower() for k in errors}
    if "token" in keys:
        raise ApiAuthError(f"API-Football refused the key: {text}")
    if "ratelimit" in keys or "requests" in keys:
        raise ApiRateLimitError(f"API-Football quota: {text}")
    if "plan" in keys:
        raise ApiPlanError(f"API-Football plan: {text}")
    if "access" in keys:
        raise ApiAccessError(f"API-Football access: {text}")
    raise ApiRequestError(f"API-Football errors: {text}")


# --------------------------------------------------------------------------------------------
# HTTP client
# --------------------------------------------------------------------------------------------


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, TransientError)


def _header_float(headers: Any, name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        return None


class ApiFootballClient:
    """Blocking API-Football v3 client. Thread-safe enough for one task; not shared state.

    Args:
        base_url: e.g. ``https://v3.football.api-sports.io`` or a stand-in URL.
        api_key: sent as ``x-apisports-key``; empty => :class:`ConfigError`.
        timeout: ``(connect, read)`` seconds, or one number for both.
        max_attempts: attempts per request (first try included).
        backoff_initial / backoff_max: exponential backoff bounds (seconds).
        max_total_wait: bound on the sum of waits of one request (retries + rate-limit pause).
        rate_limit_pause: how long to wait before the next call once ``X-RateLimit-Remaining``
            is 0 (bounded by ``max_total_wait``), and the cap on a honoured ``Retry-After``.
        session: optional ``requests.Session`` (connection reuse, test adapters).
        sleep: injectable sleep (tests).
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str = "",
        *,
        timeout: float | tuple[float, float] = (5.0, 20.0),
        max_attempts: int = 4,
        backoff_initial: float = 1.0,
        backoff_max: float = 30.0,
        max_total_wait: float = 90.0,
        rate_limit_pause: float = 60.0,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not api_key:
            raise ConfigError("API-Football api_key is empty")
        if not base_url:
            raise ConfigError("API-Football base_url is empty")
        if max_attempts < 1:
            raise ConfigError("max_attempts must be >= 1")
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout if isinstance(timeout, tuple) else (timeout, timeout)
        self.max_attempts = max_attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.max_total_wait = max_total_wait
        self.rate_limit_pause = rate_limit_pause
        self.session = session or requests.Session()
        self._sleep = sleep
        self._pause_until = 0.0
        #: Last seen rate-limit headers: {"day_remaining": .., "minute_remaining": ..}.
        self.rate_limit: dict[str, float | None] = {"day_remaining": None,
                                                    "minute_remaining": None}
        #: Number of HTTP requests sent (all attempts), for logging and tests.
        self.calls = 0

    # ---- public API ------------------------------------------------------------------------

    def fixtures_by_date(
        self,
        date: str | date_cls,
        league_ids: Iterable[int] | None = None,
        team_ids: Iterable[int] | None = None,
        season: int | None = None,
    ) -> FixtureBatch:
        """Fixtures of one day (``YYYY-MM-DD``, UTC), following ``paging``.

        Without leagues/teams: one paged listing of every fixture of the day. With them: one
        paged call per league and per team (``season`` is required by the API then); results
        are de-duplicated by fixture id. Events are not included (``Fixture.events is None``).
        """
        day = date.isoformat() if isinstance(date, date_cls) else str(date)
        try:
            date_cls.fromisoformat(day)
        except ValueError:
            raise ConfigError(f"date {day!r} is not YYYY-MM-DD") from None
        leagues = list(league_ids or [])
        teams = list(team_ids or [])
        if (leagues or teams) and season is None:
            raise ConfigError("season is required when filtering by league or team")
        queries: list[dict[str, Any]]
        if not leagues and not teams:
            queries = [{"date": day}]
        else:
            queries = [{"date": day, "league": lg, "season": season} for lg in leagues]
            queries += [{"date": day, "team": tm, "season": season} for tm in teams]
        out = FixtureBatch([], [])
        seen: set[int] = set()
        for params in queries:
            batch = self._paged("/fixtures", params)
            for fx in batch.fixtures:
                if fx.id not in seen:
                    seen.add(fx.id)
                    out.fixtures.append(fx)
            out.errors.extend(batch.errors)
        return out

    def fixtures_by_ids(self, ids: Iterable[int]) -> FixtureBatch:
        """Fixtures with ``events`` inline, batched ``ids=1-2-3`` at 20 per call."""
        unique: list[int] = []
        for fid in ids:
            if isinstance(fid, bool) or not isinstance(fid, int):
                raise ConfigError(f"fixture id {fid!r} is not an integer")
            if fid not in unique:
                unique.append(fid)
        out = FixtureBatch([], [])
        for start in range(0, len(unique), MAX_IDS_PER_CALL):
            chunk = unique[start:start + MAX_IDS_PER_CALL]
            body = self._get("/fixtures", {"ids": "-".join(str(i) for i in chunk)})
            response, _ = check_envelope(body, "/fixtures")
            batch = parse_fixtures(response)
            out.fixtures.extend(batch.fixtures)
            out.errors.extend(batch.errors)
        return out

    def live_fixtures(self) -> FixtureBatch:
        """``/fixtures?live=all`` (events inline, as the real API returns them)."""
        return self._paged("/fixtures", {"live": "all"})

    def fixture_events(self, fixture_id: int) -> list[Event]:
        """``/fixtures/events?fixture=ID``; one bad event raises (it is one fixture's data)."""
        body = self._get("/fixtures/events", {"fixture": fixture_id})
        response, _ = check_envelope(body, "/fixtures/events")
        return [parse_event(ev, f"response[{i}]") for i, ev in enumerate(response)]

    # ---- plumbing --------------------------------------------------------------------------

    def _paged(self, path: str, params: dict[str, Any]) -> FixtureBatch:
        out = FixtureBatch([], [])
        page = 1
        while True:
            query = dict(params)
            if page > 1:
                query["page"] = page
            body = self._get(path, query)
            response, paging = check_envelope(body, path)
            batch = parse_fixtures(response, where=f"page[{page}].response")
            out.fixtures.extend(batch.fixtures)
            out.errors.extend(batch.errors)
            if paging["current"] != page:
                raise PayloadError("paging.current", f"is {paging['current']}, asked for page "
                                   f"{page}", source=SOURCE)
            if paging["current"] >= paging["total"]:
                return out
            page += 1
            if page > MAX_PAGES:
                raise PayloadError("paging.total", f"is {paging['total']}, more than "
                                   f"{MAX_PAGES} pages", source=SOURCE)

    def _wait_for(self, state: RetryCallState) -> float:
        """Exponential backoff, at least any Retry-After, within the remaining budget."""
        n = state.attempt_number
        wait = min(self.backoff_max, self.backoff_initial * (2 ** (n - 1)))
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, ApiRateLimitError) and exc.retry_after is not None:
            wait = max(wait, min(exc.retry_after, self.rate_limit_pause))
        spent = time.monotonic() - state.start_time if state.start_time else 0.0
        return max(0.0, min(wait, self.max_total_wait - spent))

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_attempt(self.max_attempts) | stop_after_delay(self.max_total_wait),
            wait=self._wait_for,
            sleep=self._sleep,
            reraise=True,
            before_sleep=lambda s: log.warning(
                "API-Football %s %s attempt %d failed (%s); retrying",
                path, params, s.attempt_number, s.outcome.exception() if s.outcome else "?"),
        )
        return retrying(self._get_once, path, params)

    def _get_once(self, path: str, params: dict[str, Any]) -> Any:
        pause = self._pause_until - time.monotonic()
        if pause > 0:
            log.info("API-Football minute quota spent; pausing %.1fs", pause)
            self._sleep(min(pause, self.max_total_wait))
            self._pause_until = 0.0
        url = self.base_url + path
        self.calls += 1
        try:
            resp = self.session.get(
                url, params=params, timeout=self.timeout,
                headers={"x-apisports-key": self.api_key, "Accept": "application/json"},
            )
        except requests.Timeout as exc:
            raise ApiTimeoutError(f"API-Football {path} {params}: timeout ({exc})") from exc
        except requests.ConnectionError as exc:
            raise ApiUnavailableError(f"API-Football {path}: connection failed ({exc})") from exc
        except requests.RequestException as exc:
            raise ApiUnavailableError(f"API-Football {path}: {exc}") from exc
        self._note_rate_limit(resp.headers)
        status = resp.status_code
        if status == 429:
            raise ApiRateLimitError(
                f"API-Football {path}: HTTP 429",
                retry_after=_header_float(resp.headers, "Retry-After"),
            )
        if status >= 500:
            raise ApiUnavailableError(f"API-Football {path}: HTTP {status}")
        if status in (401, 403):
            raise ApiAuthError(f"API-Football {path}: HTTP {status}")
        if status >= 400:
            raise ApiRequestError(f"API-Football {path} {params}: HTTP {status}")
        try:
            body = resp.json()
        except ValueError:
            raise PayloadError("<body>", f"is not JSON ({resp.text[:80]!r})",
                               source=f"{SOURCE} {path}") from None
        if isinstance(body, dict) and isinstance(body.get("errors"), dict):
            keys = {str(k).lower() for k in body["errors"]}
            if "ratelimit" in keys:  # per-minute quota inside a 200: transient, retried
                raise ApiRateLimitError(
                    f"API-Football {path}: {body['errors']}",
                    retry_after=_header_float(resp.headers, "Retry-After"),
                )
        return body

    def _note_rate_limit(self, headers: Any) -> None:
        day = _header_float(headers, "x-ratelimit-requests-remaining")
        minute = _header_float(headers, "X-RateLimit-Remaining")
        self.rate_limit = {"day_remaining": day, "minute_remaining": minute}
        if minute is not None and minute <= 0:
            self._pause_until = time.monotonic() + min(self.rate_limit_pause,
                                                       self.max_total_wait)
