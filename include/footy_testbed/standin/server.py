"""The stand-in HTTP server: one loopback ``ThreadingHTTPServer`` for every fake upstream.

Route registry
--------------
A stand-in module registers handlers at import time::

    from footy_testbed.standin.server import StandinRequest, StandinResponse, register

    def search_recent(req: StandinRequest) -> StandinResponse:
        t = req.world.clock.now()          # scenario seconds
        ...
        return StandinResponse.json_body({"data": [...]})

    register("GET", "/2/tweets/search/recent", search_recent)

Every module of the ``footy_testbed.standin`` package (except ``server`` and ``scenario``) is
imported when a server starts (:func:`load_route_modules`), so adding a file is enough.
Matching is by method and the longest registered prefix where ``path == prefix`` or
``path`` starts with ``prefix + "/"`` (a prefix ending in ``/`` matches anything under it).

Shared state: ``req.world`` (:class:`World`) holds the scenario, the clock, ``base_time``,
``settings``, the fault queue, the request log and ``state`` (a dict a module may use for its
own data, under ``world.lock``).

Control endpoints (JSON):

* ``GET /_standin/clock`` -> ``{"t", "running", "speed", "now"}``;
  ``POST /_standin/clock`` with ``{"t": s}`` (set and pause), ``{"advance": s}``,
  ``{"run": true[, "speed": x]}``, ``{"pause": true}``.
* ``POST /_standin/faults`` with ``{"path": "/fixtures", "kind": "429", "count": 1,
  "seconds": 3, "retry_after": 1, "prefix": false}``; ``GET`` lists, ``DELETE`` clears.
  Generic kinds: any 3-digit status (``"429"``, ``"500"``, ``"403"`` ...), ``"timeout"``
  (sleep ``seconds`` then answer normally), ``"malformed"`` (truncated JSON body), ``"reset"``
  (close the connection without answering). Modules add kinds with :func:`register_fault`
  (API-Football adds ``errors200_token|ratelimit|plan|access|requests`` and ``remaining0``).
* ``GET /_standin/requests`` (log of handled requests), ``DELETE /_standin/requests``.
* ``GET /_standin/health``.

Command line: ``python -m footy_testbed.standin --port 0 --scenario demo --speed 1`` prints
``{"port": N, "url": ...}`` as one JSON line on stdout, then serves until interrupted.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import pkgutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from footy.errors import ConfigError
from footy_testbed.standin.scenario import Clock, Scenario, load_scenario, utc_now_seconds

log = logging.getLogger(__name__)

HOST = "127.0.0.1"
MAX_LOG = 10_000


# ---- request / response ----------------------------------------------------------------------


@dataclass
class StandinRequest:
    """One request. ``headers`` keys are lower-case; ``query`` keeps the last value of a key
    (``query_all`` keeps every value); ``json`` is the parsed body or None."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    json: Any
    body: bytes
    world: World
    query_all: dict[str, list[str]] = field(default_factory=dict)
    fault: Fault | None = None  # the fault taken by this request, if any


@dataclass
class StandinResponse:
    """``body`` is bytes; use :meth:`json_body` for JSON. ``close`` drops the connection.

    A slow or stalled download is a ``stream``: ``length`` bytes announced, the chunks written
    as the iterator yields them (it may sleep between them), then the connection closed.
    """

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    close: bool = False
    stream: Iterable[bytes] | None = None
    length: int | None = None

    @classmethod
    def json_body(cls, payload: Any, status: int = 200,
                  headers: dict[str, str] | None = None) -> StandinResponse:
        return cls(status=status, body=json.dumps(payload).encode(), headers=dict(headers or {}))


Handler = Callable[[StandinRequest], StandinResponse]


@dataclass
class Route:
    method: str
    prefix: str
    handler: Handler


_ROUTES: list[Route] = []
_FAULT_KINDS: dict[str, Callable[[StandinRequest, Fault], StandinResponse | None]] = {}


def register(method: str, path_prefix: str, handler: Handler) -> None:
    """Register (or replace) the handler of ``method`` + ``path_prefix``."""
    method = method.upper()
    _ROUTES[:] = [r for r in _ROUTES if not (r.method == method and r.prefix == path_prefix)]
    _ROUTES.append(Route(method, path_prefix, handler))


def register_fault(kind: str,
                   builder: Callable[[StandinRequest, Fault], StandinResponse | None]) -> None:
    """Add a fault kind: ``builder`` returns the response to send instead, or None to let the
    route answer (it sees the fault as ``req.fault``)."""
    _FAULT_KINDS[kind] = builder


def routes() -> list[Route]:
    return list(_ROUTES)


def find_route(method: str, path: str) -> Route | None:
    best: Route | None = None
    for route in _ROUTES:
        if route.method != method:
            continue
        p = route.prefix
        if path == p or path.startswith(p if p.endswith("/") else p + "/"):
            if best is None or len(p) > len(best.prefix):
                best = route
    return best


def load_route_modules() -> list[str]:
    """Import every route module of ``footy_testbed.standin`` (they register on import)."""
    import footy_testbed.standin as pkg

    loaded = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name in {"server", "scenario"} or info.name.startswith("_"):
            continue
        importlib.import_module(f"footy_testbed.standin.{info.name}")
        loaded.append(info.name)
    return loaded


# ---- world: scenario + clock + faults --------------------------------------------------------


@dataclass
class Fault:
    path: str
    kind: str
    count: int = 1
    prefix: bool = False
    seconds: float = 3.0
    retry_after: float | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def matches(self, path: str) -> bool:
        if self.prefix:
            return path.startswith(self.path)
        return path == self.path


class World:
    """Everything handlers share. Mutations go through ``lock``."""

    def __init__(self, scenario: Scenario, clock: Clock, base_time: datetime,
                 settings: dict[str, Any] | None = None) -> None:
        self.scenario = scenario
        self.clock = clock
        self.base_time = base_time
        self.settings = {**scenario.settings, **(settings or {})}
        self.lock = threading.RLock()
        self.faults: list[Fault] = []
        self.requests: list[dict[str, Any]] = []
        self.request_times: list[float] = []  # real monotonic times, for rate-limit headers
        self.state: dict[str, Any] = {}
        self.stopping = threading.Event()

    def now(self) -> float:
        return self.clock.now()

    def count_request(self, key: str, window: float) -> tuple[int, float]:
        """Count a request in ``key``'s fixed rate window of ``window`` real seconds:
        ``(requests so far in the window, when it started)``."""
        now = time.time()
        with self.lock:
            state = self.state.setdefault(key, {})
            start = state.get("window_start")
            if start is None or now - start >= window:
                start, state["window_start"], state["window_count"] = now, now, 0
            state["window_count"] += 1
            return state["window_count"], start

    def add_fault(self, path: str, kind: str, count: int = 1, **kw: Any) -> Fault:
        known = set(_FAULT_KINDS) | {"timeout", "malformed", "reset"}
        if kind not in known and not (kind.isdigit() and len(kind) == 3):
            raise ConfigError(f"unknown fault kind {kind!r}; known: {sorted(known)}")
        fault = Fault(path=path, kind=kind, count=int(count),
                      prefix=bool(kw.pop("prefix", False)),
                      seconds=float(kw.pop("seconds", 3.0)),
                      retry_after=kw.pop("retry_after", None), options=kw)
        with self.lock:
            self.faults.append(fault)
        return fault

    def take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.count > 0 and fault.matches(path):
                    fault.count -= 1
                    if fault.count == 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def clear_faults(self) -> None:
        with self.lock:
            self.faults.clear()

    def note_request(self, entry: dict[str, Any]) -> int:
        """Log a request; returns the number of requests in the last 60 real seconds."""
        now = time.monotonic()
        with self.lock:
            self.requests.append(entry)
            del self.requests[:-MAX_LOG]
            self.request_times = [x for x in self.request_times if now - x < 60] + [now]
            return len(self.request_times)

    def requests_for(self, path: str) -> list[dict[str, Any]]:
        with self.lock:
            return [r for r in self.requests if r["path"] == path]


# ---- generic faults --------------------------------------------------------------------------


def _fault_response(req: StandinRequest, fault: Fault) -> StandinResponse | None:
    if fault.kind == "timeout":
        req.world.stopping.wait(fault.seconds)
        return None
    if fault.kind == "malformed":
        return StandinResponse(status=200, body=b'{"get": "fixtures", "response": [{"fixtu')
    if fault.kind == "reset":
        return StandinResponse(status=0, close=True)
    if fault.kind.isdigit():
        status = int(fault.kind)
        headers = {}
        if fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        return StandinResponse.json_body({"message": f"stand-in fault {status}"}, status, headers)
    return _FAULT_KINDS[fault.kind](req, fault)


# ---- control endpoints -----------------------------------------------------------------------


def _clock(req: StandinRequest) -> StandinResponse:
    clock = req.world.clock
    if req.method == "POST":
        body = req.json or {}
        if not isinstance(body, dict):
            return StandinResponse.json_body({"error": "body must be an object"}, 400)
        if "t" in body:
            clock.set(float(body["t"]))
        if "advance" in body:
            clock.advance(float(body["advance"]))
        if body.get("pause"):
            clock.pause()
        if body.get("run"):
            clock.run(body.get("speed"))
    return StandinResponse.json_body(clock.snapshot(req.world.base_time))


def _faults(req: StandinRequest) -> StandinResponse:
    world = req.world
    if req.method == "POST":
        body = dict(req.json or {})
        try:
            world.add_fault(str(body.pop("path")), str(body.pop("kind")),
                            int(body.pop("count", 1)), **body)
        except (KeyError, ValueError, ConfigError) as exc:
            return StandinResponse.json_body({"error": str(exc)}, 400)
    elif req.method == "DELETE":
        world.clear_faults()
    with world.lock:
        listing = [{"path": f.path, "kind": f.kind, "count": f.count} for f in world.faults]
    return StandinResponse.json_body({"faults": listing})


def _requests(req: StandinRequest) -> StandinResponse:
    with req.world.lock:
        if req.method == "DELETE":
            req.world.requests.clear()
        return StandinResponse.json_body({"requests": list(req.world.requests)})


def _health(req: StandinRequest) -> StandinResponse:
    return StandinResponse.json_body({
        "ok": True, "scenario": req.world.scenario.name,
        "routes": [f"{r.method} {r.prefix}" for r in _ROUTES],
    })


def _register_control() -> None:
    for method in ("GET", "POST"):
        register(method, "/_standin/clock", _clock)
    for method in ("GET", "POST", "DELETE"):
        register(method, "/_standin/faults", _faults)
    for method in ("GET", "DELETE"):
        register(method, "/_standin/requests", _requests)
    register("GET", "/_standin/health", _health)


_register_control()


# ---- HTTP plumbing ---------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server_version = "footy-standin/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt: str, *args: Any) -> None:  # quiet by default
        log.debug("standin %s", fmt % args)

    def _dispatch(self) -> None:
        world: World = self.server.world  # type: ignore[attr-defined]
        parts = urlsplit(self.path)
        query_all = parse_qs(parts.query, keep_blank_values=True)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            payload = json.loads(raw) if raw else None
        except ValueError:
            payload = None
        req = StandinRequest(
            method=self.command, path=parts.path,
            query={k: v[-1] for k, v in query_all.items()},
            headers={k.lower(): v for k, v in self.headers.items()},
            json=payload, body=raw, world=world, query_all=query_all,
        )
        resp: StandinResponse | None = None
        fault = None
        if not parts.path.startswith("/_standin/"):
            fault = req.fault = world.take_fault(parts.path)
            if fault is not None:
                resp = _fault_response(req, fault)
        if resp is None:
            route = find_route(self.command, parts.path)
            if route is None:
                resp = StandinResponse.json_body(
                    {"message": f"no stand-in route for {self.command} {parts.path}"}, 404)
            else:
                try:
                    resp = route.handler(req)
                except Exception as exc:  # a stand-in bug must not hang the client
                    log.exception("stand-in handler failed")
                    resp = StandinResponse.json_body({"message": f"stand-in error: {exc}"}, 500)
        if not parts.path.startswith("/_standin/"):
            world.note_request({"method": self.command, "path": parts.path,
                                "query": req.query, "t": world.now(),
                                "status": resp.status, "fault": fault.kind if fault else None})
        self._send(resp)

    def _send(self, resp: StandinResponse) -> None:
        if resp.close:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        try:
            self.send_response(resp.status)
            self.send_header("Content-Type", resp.content_type)
            length = resp.length if resp.stream is not None else len(resp.body)
            self.send_header("Content-Length", str(length))
            for key, value in resp.headers.items():
                self.send_header(key, value)
            self.end_headers()
            if self.command == "HEAD":
                return
            if resp.stream is None:
                self.wfile.write(resp.body)
                return
            self.close_connection = True
            for chunk in resp.stream:
                self.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout test)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _dispatch


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True

    def __init__(self, world: World, port: int = 0) -> None:
        self.world = world
        super().__init__((HOST, port), _Handler)


def make_world(scenario: str | dict[str, Any] | Scenario, speed: float = 1.0, *,
               base_time: datetime | None = None, paused_at: float | None = None,
               settings: dict[str, Any] | None = None) -> World:
    clock = Clock(speed)
    if paused_at is not None:
        clock.set(paused_at)
    return World(load_scenario(scenario), clock, base_time or utc_now_seconds(), settings)


@dataclass
class StandinHandle:
    """A running server: ``url`` (no trailing slash), ``world``, ``stop()``."""

    server: StandinServer
    thread: threading.Thread
    world: World

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def stop(self) -> None:
        self.world.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def __enter__(self) -> StandinHandle:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


def start_in_thread(scenario: str | dict[str, Any] | Scenario = "test_matchday",
                    speed: float = 1.0, port: int = 0, *, base_time: datetime | None = None,
                    paused_at: float | None = None,
                    settings: dict[str, Any] | None = None) -> StandinHandle:
    """Serve in a daemon thread (tests). ``paused_at`` starts the clock paused at that t."""
    load_route_modules()
    world = make_world(scenario, speed, base_time=base_time, paused_at=paused_at,
                       settings=settings)
    server = StandinServer(world, port)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name="footy-standin", daemon=True)
    thread.start()
    return StandinHandle(server, thread, world)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m footy_testbed.standin",
                                     description="Loopback stand-in for API-Football, X, clips")
    parser.add_argument("--port", type=int, default=8765, help="0 = any free port")
    parser.add_argument("--scenario", default="demo", help="bundled name or JSON path")
    parser.add_argument("--speed", type=float, default=1.0,
                        help="scenario seconds per real second")
    parser.add_argument("--base-time", default=None,
                        help="ISO timestamp of scenario t=0 (default: now, UTC)")
    parser.add_argument("--start", type=float, default=0.0, help="scenario t to start at")
    parser.add_argument("--paused", action="store_true", help="start with the clock paused")
    parser.add_argument("--api-key", default=None, help="expected x-apisports-key")
    parser.add_argument("--page-size", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")

    base = None
    if args.base_time:
        base = datetime.fromisoformat(args.base_time)
        if base.tzinfo is None:
            raise ConfigError("--base-time needs a UTC offset, e.g. 2026-05-01T14:00:00+00:00")
    settings: dict[str, Any] = {}
    if args.api_key:
        settings["api_key"] = args.api_key
    if args.page_size:
        settings["page_size"] = args.page_size
    load_route_modules()
    world = make_world(args.scenario, args.speed, base_time=base, settings=settings)
    world.clock.set(args.start)
    if not args.paused:
        world.clock.run()
    server = StandinServer(world, args.port)
    port = server.server_address[1]
    print(json.dumps({"port": port, "url": f"http://{HOST}:{port}",
                      "scenario": world.scenario.name,
                      "base_time": world.base_time.isoformat()}), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        world.stopping.set()
        server.server_close()
    return 0


if __name__ == "__main__":  # run through the package module so the route registry is shared
    from footy_testbed.standin.server import main as _main

    sys.exit(_main())
