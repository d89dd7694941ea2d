"""Stand-in API-Football v3 routes, driven by the scenario and the scenario clock.

Routes: ``GET /fixtures`` (``ids=a-b-c`` at most 20, ``live=all``, ``date=YYYY-MM-DD`` with
optional ``league`` (needs ``season``), ``season``, ``team``, paginated by ``page`` at
``settings["page_size"]``) and ``GET /fixtures/events?fixture=ID``.

Like the real API: the envelope is ``{"get", "parameters", "errors", "results", "paging",
"response"}``; refusals come as HTTP 200 with ``errors`` an object; every answer carries
``x-ratelimit-requests-limit/remaining`` (day) and ``X-RateLimit-Limit/Remaining`` (minute).
``x-apisports-key`` must be non-empty and, when ``settings["api_key"]`` is set, equal to it.

Fault kinds added here: ``errors200_token``, ``errors200_ratelimit``, ``errors200_plan``,
``errors200_access``, ``errors200_requests`` (errors-in-200 envelopes), ``remaining0``
(normal answer with ``X-RateLimit-Remaining: 0``) and ``corrupt`` (normal answer with the
dotted ``field`` of ``response[index]`` deleted, or set to ``value``: a malformed fixture).
"""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Any

from footy_testbed.standin.server import (
    Fault,
    StandinRequest,
    StandinResponse,
    World,
    register,
    register_fault,
)

MAX_IDS = 20
ERROR_TEXT = {
    "token": "Error/Missing application key. Go to https://www.api-football.com/documentation-v3"
             " to learn how to get your API application key.",
    "rateLimit": "Too many requests. Your rate limit is 10 requests per minute.",
    "plan": "Free plans do not have access to this season, try from 2021 to 2023.",
    "access": "Your account is suspended, check on https://dashboard.api-football.com.",
    "requests": "You have reached the request limit for the day, Go to "
                "https://dashboard.api-football.com to upgrade your plan.",
}
DAY_COUNTER = "api_football.day_requests"


def _rate_headers(world: World, remaining_minute: int | None = None) -> dict[str, str]:
    with world.lock:
        day_used = world.state[DAY_COUNTER] = world.state.get(DAY_COUNTER, 0) + 1
        minute_used = len(world.request_times) + 1
    per_minute = int(world.settings.get("rate_limit_per_minute", 300))
    daily = int(world.settings.get("daily_limit", 7500))
    if remaining_minute is None:
        remaining_minute = max(0, per_minute - minute_used)
    return {
        "x-ratelimit-requests-limit": str(daily),
        "x-ratelimit-requests-remaining": str(max(0, daily - day_used)),
        "X-RateLimit-Limit": str(per_minute),
        "X-RateLimit-Remaining": str(remaining_minute),
    }


def envelope(req: StandinRequest, response: list[Any], *, errors: Any = None,
             page: int = 1, total: int = 1) -> StandinResponse:
    remaining = 0 if req.fault is not None and req.fault.kind == "remaining0" else None
    if req.fault is not None and req.fault.kind == "corrupt" and response:
        _corrupt(response, req.fault)
    body = {
        "get": req.path.lstrip("/"),
        "parameters": req.query,
        "errors": errors if errors else [],
        "results": len(response),
        "paging": {"current": page, "total": total},
        "response": response,
    }
    return StandinResponse.json_body(body, headers=_rate_headers(req.world, remaining))


def _corrupt(response: list[Any], fault: Fault) -> None:
    """Delete (or with ``value`` replace) the dotted ``field`` of ``response[index]``."""
    index = int(fault.options.get("index", 0))
    if index >= len(response):
        return
    *parents, last = str(fault.options.get("field", "fixture.status.short")).split(".")
    node = response[index]
    for part in parents:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        if "value" in fault.options:
            node[last] = fault.options["value"]
        else:
            node.pop(last, None)


def refuse(req: StandinRequest, key: str, text: str | None = None) -> StandinResponse:
    return envelope(req, [], errors={key: text or ERROR_TEXT.get(key, key)})


def _auth(req: StandinRequest) -> StandinResponse | None:
    key = req.headers.get("x-apisports-key", "")
    expected = req.world.settings.get("api_key")
    if not key or (expected and key != expected):
        return refuse(req, "token")
    return None


def _int(value: str) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def fixtures(req: StandinRequest) -> StandinResponse:
    refused = _auth(req)
    if refused:
        return refused
    world, q = req.world, req.query
    t = world.now()
    scenario = world.scenario
    if "ids" in q:
        raw = [p for p in q["ids"].split("-") if p != ""]
        ids = [_int(p) for p in raw]
        if not raw or None in ids:
            return refuse(req, "ids", "The Ids field must contain integers separated by '-'.")
        if len(ids) > MAX_IDS:
            return refuse(req, "ids", f"Maximum of {MAX_IDS} ids allowed.")
        items = [fx.api_item(t, world.base_time, with_events=True)
                 for fid in dict.fromkeys(ids) if (fx := scenario.fixture(fid)) is not None]
        return envelope(req, items)
    if "live" in q:
        from footy.goals import ACTIVE, bucket_for_status

        items = [fx.api_item(t, world.base_time, with_events=True) for fx in scenario.fixtures
                 if bucket_for_status(fx.status_at(t)[0]) == ACTIVE]
        return envelope(req, items)
    if "date" not in q:
        return refuse(req, "required", "At least one parameter is required.")
    try:
        day = date.fromisoformat(q["date"])
    except ValueError:
        return refuse(req, "date", "The Date field must contain a valid date (YYYY-MM-DD).")
    if "league" in q and "season" not in q:
        return refuse(req, "season", "The Season field is required.")
    league, season, team = _int(q.get("league")), _int(q.get("season")), _int(q.get("team"))
    selected = []
    for fx in scenario.fixtures:
        kickoff = (world.base_time + timedelta(seconds=fx.kickoff)).astimezone(UTC)
        if kickoff.date() != day:
            continue
        if "league" in q and fx.league.get("id") != league:
            continue
        if "season" in q and fx.league.get("season") != season:
            continue
        if "team" in q and team not in (fx.home["id"], fx.away["id"]):
            continue
        selected.append(fx)
    selected.sort(key=lambda f: (f.kickoff, f.id))
    size = max(1, int(world.settings.get("page_size") or 20))
    total = max(1, -(-len(selected) // size))
    page = _int(q.get("page", "1"))
    if page is None or page < 1:
        return refuse(req, "page", "The Page field must be a positive integer.")
    chunk = selected[(page - 1) * size: page * size]
    items = [fx.api_item(t, world.base_time, with_events=False) for fx in chunk]
    return envelope(req, items, page=page, total=total)


def fixture_events(req: StandinRequest) -> StandinResponse:
    refused = _auth(req)
    if refused:
        return refused
    fid = _int(req.query.get("fixture"))
    if fid is None:
        return refuse(req, "fixture", "The Fixture field is required.")
    fx = req.world.scenario.fixture(fid)
    return envelope(req, fx.api_events_at(req.world.now()) if fx else [])


def _errors200(key: str):
    def build(req: StandinRequest, fault: Fault) -> StandinResponse:
        return refuse(req, key, fault.options.get("message"))
    return build


register("GET", "/fixtures", fixtures)
register("GET", "/fixtures/events", fixture_events)
for _kind, _key in (("errors200_token", "token"), ("errors200_ratelimit", "rateLimit"),
                    ("errors200_plan", "plan"), ("errors200_access", "access"),
                    ("errors200_requests", "requests")):
    register_fault(_kind, _errors200(_key))
register_fault("remaining0", lambda req, fault: None)
register_fault("corrupt", lambda req, fault: None)
