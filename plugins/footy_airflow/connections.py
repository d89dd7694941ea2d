"""Airflow Connections and Variables -> the domain's clients and settings.

Nothing here runs at import time; every function is called inside a task.
"""

from __future__ import annotations

import json
from typing import Any

from airflow.sdk import BaseHook, Variable

from footy.api_football import ApiFootballClient
from footy.errors import ConfigError
from footy.sources import ClipSource, create_source
from footy.store.sources import credential_id

API_FOOTBALL_CONN_ID = "api_football"
X_API_CONN_ID = "x_api"


def base_url(conn: Any) -> str:
    """``host`` may be a full URL (``https://v3.football.api-sports.io``) or a bare host."""
    host = (conn.host or "").rstrip("/")
    if not host:
        raise ConfigError(f"connection {conn.conn_id!r} has no host (the API base URL)")
    if "://" not in host:
        scheme = conn.schema or ("http" if host in {"127.0.0.1", "localhost"} else "https")
        host = f"{scheme}://{host}"
    return f"{host}:{conn.port}" if conn.port else host


def api_football_client() -> ApiFootballClient:
    conn = BaseHook.get_connection(API_FOOTBALL_CONN_ID)
    if not conn.password:
        raise ConfigError(f"connection {API_FOOTBALL_CONN_ID!r} has no password (the API key)")
    return ApiFootballClient(base_url(conn), conn.password)


def x_source(**settings: Any) -> tuple[ClipSource, str]:
    """The X recent-search source from connection ``x_api`` (host = base URL, password =
    bearer token), and the token's fingerprint: a source paused for rejected credentials
    resumes when it changes (``footy.store.sources``). Timeouts and retries stay bounded: a
    search attempt must end well within its claim's lease."""
    conn = BaseHook.get_connection(X_API_CONN_ID)
    if not conn.password:
        raise ConfigError(f"connection {X_API_CONN_ID!r} has no password (the bearer token)")
    options: dict[str, Any] = {"timeout": (5.0, 20.0), "max_attempts": 3, **settings}
    source = create_source("x", base_url=base_url(conn), bearer_token=conn.password, **options)
    return source, credential_id(conn.password)


def json_variable(key: str, default: Any) -> Any:
    """A JSON Variable, or ``default`` when it is not set. Malformed JSON is a clear error."""
    raw = Variable.get(key, default=None)
    if raw is None:
        return default
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise ConfigError(f"Variable {key!r} is not valid JSON: {exc}") from exc
