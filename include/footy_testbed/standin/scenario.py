"""Stand-in scenarios: a match day in compressed time, plus the scenario clock.

Scenario time ``t`` is seconds since scenario start. Wall-clock timestamps are
``base_time + t`` (``base_time`` defaults to "now" when the server starts), so a fixture's
``date`` is a real ISO timestamp. The clock runs at ``speed`` scenario seconds per real second
and can be set, advanced, paused and resumed (see :class:`Clock`).

Scenario JSON format (unknown keys are kept everywhere, in ``.raw``, for other stand-in
modules; e.g. each goal's ``"clips": [...]`` is opaque data read by the X API stand-in)::

    {
      "name": "demo",
      "description": "...",
      "duration": 900,                       # optional, informative
      "settings": {                          # optional; CLI/start_in_thread may override
        "page_size": 2,                      # /fixtures?date= page size (default 20)
        "api_key": null,                     # expected x-apisports-key; null = any non-empty
        "rate_limit_per_minute": 300,        # X-RateLimit-Limit (headers only)
        "daily_limit": 7500                  # x-ratelimit-requests-limit
      },
      "fixtures": [{
        "id": 1001,                          # int, unique
        "kickoff": 60,                       # scenario seconds; date = base_time + kickoff
        "league": {"id": 39, "name": "Premier League", "season": 2025, "round": "..."},
        "home": {"id": 50, "name": "Manchester City"},
        "away": {"id": 42, "name": "Arsenal"},
        "minute_seconds": 4,                 # scenario seconds per match minute (default 4)
        "totals_lag": 20,                    # goals{home,away} lag the events by N seconds
        "timeline": [                        # status changes, absolute t, ascending
          {"t": 0, "status": "NS"},
          {"t": 60, "status": "1H"},         # counting statuses (1H, 2H, ET, LIVE) tick
          {"t": 260, "status": "HT"},        #   elapsed from "elapsed" (default 1/46/91)
          {"t": 290, "status": "2H"},        #   up to "cap" (45/90/120), then extra = over cap
          {"t": 500, "status": "FT"},        # other statuses: fixed "elapsed" (defaults:
          ...                                #   HT 45, FT 90, AET/P/PEN 120, ABD/SUSP/INT
        ],                                   #   = elapsed when the phase began)
        "events": [{
          "key": "g1",                       # optional, default "<fixture>-<index>"
          "t": 120,                          # appears at scenario time t
          "elapsed": 12, "extra": null,
          "team": "home",                    # "home" | "away" | {"id":..,"name":..}
          "player": {"id": null, "name": "E. Haaland"},   # id and/or name may be null
          "assist": {"id": null, "name": null},
          "type": "Goal", "detail": "Normal Goal",        # API-Football type/detail
          "comments": null,                  # "Penalty Shootout" for shootout kicks
          "changes": [{"t": 150, "elapsed": 13}],  # later overwrites (shallow), by t
          "remove_at": 200,                  # disappears (VAR-disallowed) at t
          "clips": []                        # opaque, kept for the X API stand-in
        }]
      }]
    }

Goal totals count visible Goal events (not "Missed Penalty", not shootout kicks) credited to
the event's team, as of ``t - totals_lag``; they are null before kick-off. Shootout goals
fill ``score.penalty``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from footy.errors import ConfigError

STATUS_LONG = {
    "TBD": "Time To Be Defined", "NS": "Not Started", "1H": "First Half",
    "HT": "Halftime", "2H": "Second Half", "ET": "Extra Time", "BT": "Break Time",
    "P": "Penalty In Progress", "SUSP": "Match Suspended", "INT": "Match Interrupted",
    "FT": "Match Finished", "AET": "Match Finished", "PEN": "Match Finished",
    "PST": "Match Postponed", "CANC": "Match Cancelled", "ABD": "Match Abandoned",
    "AWD": "Technical Loss", "WO": "WalkOver", "LIVE": "In Progress",
}
# counting statuses: (default start minute, default cap)
COUNTING = {"1H": (1, 45), "2H": (46, 90), "ET": (91, 120), "LIVE": (1, 90)}
FIXED_ELAPSED = {"HT": 45, "FT": 90, "BT": 105, "AET": 120, "P": 120, "PEN": 120,
                 "TBD": None, "NS": None, "PST": None, "CANC": None, "AWD": None, "WO": None}
KEEP_ELAPSED = {"ABD", "SUSP", "INT"}
NOT_STARTED = {"TBD", "NS", "PST", "CANC"}

DEFAULT_SETTINGS: dict[str, Any] = {
    "page_size": 20,
    "api_key": None,
    "rate_limit_per_minute": 300,
    "daily_limit": 7500,
}


def _need(cond: bool, where: str, problem: str) -> None:
    if not cond:
        raise ConfigError(f"scenario: {where} {problem}")


def _num(obj: dict[str, Any], key: str, where: str, default: Any = ...) -> float:
    value = obj.get(key, default)
    _need(value is not ..., f"{where}.{key}", "is missing")
    _need(isinstance(value, int | float) and not isinstance(value, bool),
          f"{where}.{key}", f"is {value!r}, expected a number")
    return float(value)


@dataclass
class Phase:
    t: float
    status: str
    elapsed: int | None  # start minute for counting statuses, fixed minute otherwise
    cap: int | None
    explicit_elapsed: bool
    raw: dict[str, Any]


@dataclass
class ScenarioEvent:
    key: str
    index: int
    t: float
    data: dict[str, Any]  # the event's own fields (elapsed, team, player, clips, ...)
    changes: list[tuple[float, dict[str, Any]]]
    remove_at: float | None

    def state_at(self, t: float) -> dict[str, Any] | None:
        """The event as visible at ``t`` (changes applied), or None when not visible."""
        if t < self.t or (self.remove_at is not None and t >= self.remove_at):
            return None
        state = dict(self.data)
        for at, patch in self.changes:
            if at <= t:
                state.update(patch)
        return state


@dataclass
class ScenarioFixture:
    id: int
    kickoff: float
    league: dict[str, Any]
    home: dict[str, Any]
    away: dict[str, Any]
    minute_seconds: float
    totals_lag: float
    timeline: list[Phase]
    events: list[ScenarioEvent]
    raw: dict[str, Any]

    # ---- status --------------------------------------------------------------------------

    def phase_at(self, t: float) -> tuple[int, Phase | None]:
        idx, found = -1, None
        for i, ph in enumerate(self.timeline):
            if ph.t <= t:
                idx, found = i, ph
        return idx, found

    def status_at(self, t: float) -> tuple[str, str, int | None, int | None]:
        """``(short, long, elapsed, extra)`` at scenario time ``t``."""
        idx, ph = self.phase_at(t)
        if ph is None:
            return "NS", STATUS_LONG["NS"], None, None
        elapsed, extra = self._elapsed(idx, t)
        return ph.status, STATUS_LONG.get(ph.status, ph.status), elapsed, extra

    def _elapsed(self, idx: int, t: float) -> tuple[int | None, int | None]:
        ph = self.timeline[idx]
        if ph.status in COUNTING:
            minute = int(ph.elapsed + (t - ph.t) // self.minute_seconds)  # type: ignore[operator]
            if ph.cap is not None and minute > ph.cap:
                return ph.cap, minute - ph.cap
            return minute, None
        if ph.explicit_elapsed or ph.status not in KEEP_ELAPSED:
            return ph.elapsed, None
        if idx == 0:
            return None, None
        return self._elapsed(idx - 1, ph.t)

    def started_at(self, t: float) -> bool:
        return self.status_at(t)[0] not in NOT_STARTED

    # ---- events --------------------------------------------------------------------------

    def team(self, ref: Any) -> dict[str, Any]:
        if ref == "home":
            return self.home
        if ref == "away":
            return self.away
        return ref

    def events_at(self, t: float) -> list[dict[str, Any]]:
        """Visible event states in match order, ``team`` resolved; unknown keys kept."""
        visible = []
        for ev in self.events:
            state = ev.state_at(t)
            if state is not None:
                state["team"] = self.team(state.get("team"))
                visible.append((state.get("elapsed") or 0, state.get("extra") or 0, ev.t, state))
        visible.sort(key=lambda v: v[:3])
        return [v[3] for v in visible]

    def api_events_at(self, t: float) -> list[dict[str, Any]]:
        return [api_event(s) for s in self.events_at(t)]

    def totals_at(self, t: float) -> tuple[int | None, int | None, int | None, int | None]:
        """``(home, away, pen_home, pen_away)``; null before kick-off / without shootout."""
        if not self.started_at(t):
            return None, None, None, None
        home = away = 0
        for s in self.events_at(t - self.totals_lag):
            if _counted_goal(s) and not _shootout(s):
                if s["team"].get("id") == self.home["id"]:
                    home += 1
                else:
                    away += 1
        ph = pa = 0
        shootout = False
        for s in self.events_at(t):
            if _shootout(s):
                shootout = True
                if _counted_goal(s):
                    if s["team"].get("id") == self.home["id"]:
                        ph += 1
                    else:
                        pa += 1
        return home, away, (ph if shootout else None), (pa if shootout else None)

    def api_item(self, t: float, base_time: datetime, *, with_events: bool) -> dict[str, Any]:
        """The ``/fixtures`` response item at scenario time ``t``."""
        short, long_, elapsed, extra = self.status_at(t)
        kickoff = base_time + timedelta(seconds=self.kickoff)
        gh, ga, ph, pa = self.totals_at(t)
        item: dict[str, Any] = {
            "fixture": {
                "id": self.id, "referee": None, "timezone": "UTC",
                "date": kickoff.isoformat(timespec="seconds"),
                "timestamp": int(kickoff.timestamp()),
                "periods": {"first": None, "second": None},
                "venue": self.raw.get("venue", {"id": None, "name": None, "city": None}),
                "status": {"long": long_, "short": short, "elapsed": elapsed, "extra": extra},
            },
            "league": dict(self.league),
            "teams": {
                "home": {**self.home, "winner": None},
                "away": {**self.away, "winner": None},
            },
            "goals": {"home": gh, "away": ga},
            "score": {
                "halftime": {"home": None, "away": None},
                "fulltime": {"home": None, "away": None},
                "extratime": {"home": None, "away": None},
                "penalty": {"home": ph, "away": pa},
            },
        }
        if with_events:
            item["events"] = self.api_events_at(t)
        return item


def _counted_goal(s: dict[str, Any]) -> bool:
    return s.get("type") == "Goal" and s.get("detail") != "Missed Penalty"


def _shootout(s: dict[str, Any]) -> bool:
    return "penalty shootout" in str(s.get("comments") or "").lower()


def api_event(state: dict[str, Any]) -> dict[str, Any]:
    """A visible event state as an API-Football ``events[]`` item (scenario keys dropped)."""
    team = state.get("team") or {}
    player = state.get("player") or {"id": None, "name": None}
    assist = state.get("assist") or {"id": None, "name": None}
    return {
        "time": {"elapsed": state.get("elapsed"), "extra": state.get("extra")},
        "team": {"id": team.get("id"), "name": team.get("name"), "logo": team.get("logo")},
        "player": {"id": player.get("id"), "name": player.get("name")},
        "assist": {"id": assist.get("id"), "name": assist.get("name")},
        "type": state.get("type"),
        "detail": state.get("detail"),
        "comments": state.get("comments"),
    }


@dataclass
class Scenario:
    name: str
    description: str
    settings: dict[str, Any]
    fixtures: list[ScenarioFixture]
    raw: dict[str, Any] = field(repr=False)

    def fixture(self, fixture_id: int) -> ScenarioFixture | None:
        for fx in self.fixtures:
            if fx.id == fixture_id:
                return fx
        return None

    def all_events(self) -> Iterator[tuple[ScenarioFixture, ScenarioEvent]]:
        for fx in self.fixtures:
            for ev in fx.events:
                yield fx, ev

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Scenario:
        _need(isinstance(data, dict), "<root>", "is not an object")
        fixtures_raw = data.get("fixtures")
        _need(isinstance(fixtures_raw, list), "fixtures", "is missing or not a list")
        fixtures = [_fixture(fx, f"fixtures[{i}]") for i, fx in enumerate(fixtures_raw)]
        ids = [fx.id for fx in fixtures]
        _need(len(ids) == len(set(ids)), "fixtures", "have duplicate ids")
        settings = dict(DEFAULT_SETTINGS)
        settings.update(data.get("settings") or {})
        return cls(name=str(data.get("name", "scenario")),
                   description=str(data.get("description", "")),
                   settings=settings, fixtures=fixtures, raw=data)


def _fixture(raw: Any, where: str) -> ScenarioFixture:
    _need(isinstance(raw, dict), where, "is not an object")
    fid = raw.get("id")
    _need(isinstance(fid, int) and not isinstance(fid, bool), f"{where}.id", "is not an int")
    for key in ("league", "home", "away"):
        _need(isinstance(raw.get(key), dict), f"{where}.{key}", "is missing or not an object")
    for key in ("home", "away"):
        _need(isinstance(raw[key].get("id"), int), f"{where}.{key}.id", "is not an int")
    timeline = []
    last_t = float("-inf")
    for i, ph in enumerate(raw.get("timeline") or []):
        pw = f"{where}.timeline[{i}]"
        _need(isinstance(ph, dict), pw, "is not an object")
        t = _num(ph, "t", pw)
        _need(t >= last_t, f"{pw}.t", "goes backwards")
        last_t = t
        status = ph.get("status")
        _need(status in STATUS_LONG, f"{pw}.status", f"is {status!r}, not a status code")
        start, cap = COUNTING.get(status, (FIXED_ELAPSED.get(status), None))
        timeline.append(Phase(t=t, status=status, elapsed=ph.get("elapsed", start),
                              cap=ph.get("cap", cap), explicit_elapsed="elapsed" in ph, raw=ph))
    events = []
    keys: set[str] = set()
    for i, ev in enumerate(raw.get("events") or []):
        ew = f"{where}.events[{i}]"
        _need(isinstance(ev, dict), ew, "is not an object")
        t = _num(ev, "t", ew)
        _need(isinstance(ev.get("type"), str), f"{ew}.type", "is missing")
        _need(isinstance(ev.get("elapsed"), int), f"{ew}.elapsed", "is not an int")
        team = ev.get("team")
        _need(team in ("home", "away") or (isinstance(team, dict) and "id" in team),
              f"{ew}.team", "must be 'home', 'away' or {id, name}")
        changes = []
        for j, ch in enumerate(ev.get("changes") or []):
            _need(isinstance(ch, dict), f"{ew}.changes[{j}]", "is not an object")
            at = _num(ch, "t", f"{ew}.changes[{j}]")
            changes.append((at, {k: v for k, v in ch.items() if k != "t"}))
        changes.sort(key=lambda c: c[0])
        remove_at = ev.get("remove_at")
        if remove_at is not None:
            remove_at = _num(ev, "remove_at", ew)
        key = str(ev.get("key") or f"{fid}-{i}")
        _need(key not in keys, f"{ew}.key", f"{key!r} is duplicated")
        keys.add(key)
        data = {k: v for k, v in ev.items() if k not in ("t", "changes", "remove_at")}
        data["key"] = key
        events.append(ScenarioEvent(key=key, index=i, t=t, data=data, changes=changes,
                                    remove_at=remove_at))
    return ScenarioFixture(
        id=fid, kickoff=_num(raw, "kickoff", where), league=raw["league"], home=raw["home"],
        away=raw["away"], minute_seconds=_num(raw, "minute_seconds", where, 4),
        totals_lag=_num(raw, "totals_lag", where, 0), timeline=timeline, events=events, raw=raw,
    )


def scenario_path(name: str) -> Path:
    """A bundled scenario (``demo``, ``test_matchday``) or a file path."""
    candidate = Path(name)
    if candidate.suffix == ".json" and candidate.exists():
        return candidate
    bundled = resources.files("footy_testbed") / "scenarios" / f"{name}.json"
    if bundled.is_file():
        return Path(str(bundled))
    raise ConfigError(f"scenario {name!r}: no such file or bundled scenario")


def load_scenario(spec: str | Path | dict[str, Any] | Scenario) -> Scenario:
    """Load a scenario from a bundled name, a path, a dict or pass a Scenario through."""
    if isinstance(spec, Scenario):
        return spec
    if isinstance(spec, dict):
        return Scenario.from_dict(spec)
    path = scenario_path(str(spec))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ConfigError(f"scenario {path}: not valid JSON ({exc})") from exc
    return Scenario.from_dict(data)


# ---- clock -----------------------------------------------------------------------------------


class Clock:
    """Scenario clock: ``now() = anchor_t + (monotonic - anchor_real) * speed`` while running.

    ``set(t)`` jumps and pauses; ``advance(dt)`` moves forward keeping run/pause state;
    ``run()`` resumes from the current value; ``pause()`` freezes it. Thread-safe.
    """

    def __init__(self, speed: float = 1.0, *, start: float = 0.0, running: bool = True,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        if speed <= 0:
            raise ConfigError(f"speed {speed!r} must be > 0")
        self.speed = float(speed)
        self._mono = monotonic
        self._lock = threading.Lock()
        self._anchor_t = float(start)
        self._anchor_real = monotonic()
        self._running = running

    def now(self) -> float:
        with self._lock:
            return self._now()

    def _now(self) -> float:
        if not self._running:
            return self._anchor_t
        return self._anchor_t + (self._mono() - self._anchor_real) * self.speed

    @property
    def running(self) -> bool:
        return self._running

    def set(self, t: float) -> float:
        with self._lock:
            self._anchor_t, self._anchor_real, self._running = float(t), self._mono(), False
            return self._anchor_t

    def advance(self, dt: float) -> float:
        with self._lock:
            self._anchor_t, self._anchor_real = self._now() + float(dt), self._mono()
            return self._anchor_t

    def run(self, speed: float | None = None) -> float:
        with self._lock:
            self._anchor_t, self._anchor_real = self._now(), self._mono()
            if speed is not None:
                if speed <= 0:
                    raise ConfigError(f"speed {speed!r} must be > 0")
                self.speed = float(speed)
            self._running = True
            return self._anchor_t

    def pause(self) -> float:
        with self._lock:
            self._anchor_t, self._anchor_real, self._running = self._now(), self._mono(), False
            return self._anchor_t

    def snapshot(self, base_time: datetime | None = None) -> dict[str, Any]:
        with self._lock:
            t = self._now()
            snap: dict[str, Any] = {"t": t, "running": self._running, "speed": self.speed}
        if base_time is not None:
            snap["now"] = (base_time + timedelta(seconds=t)).isoformat()
        return snap


def utc_now_seconds() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)
