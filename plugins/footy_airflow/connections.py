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
REDDIT_API_CONN_ID = "reddit_api"


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


def reddit_source(**settings: Any) -> tuple[ClipSource, str]:
    """r/soccer from connection ``reddit_api``: host = API base URL
    (``https://oauth.reddit.com``), login = the app's client id, password = its secret, extra
    ``{"user_agent": "python:footy:1.0 (by /u/you)", "auth_url": "https://www.reddit.com"}``
    (Reddit requires a descriptive agent). Returns the source and the secret's fingerprint."""
    conn = BaseHook.get_connection(REDDIT_API_CONN_ID)
    if not conn.login or not conn.password:
        raise ConfigError(f"connection {REDDIT_API_CONN_ID!r} needs login (the app's client id) "
                          "and password (its secret)")
    extra = conn.extra_dejson or {}
    agent = str(extra.get("user_agent") or "")
    if not agent:
        raise ConfigError(f"connection {REDDIT_API_CONN_ID!r}: extra.user_agent is required "
                          "(e.g. 'python:footy:1.0 (by /u/you)')")
    options: dict[str, Any] = {"timeout": (5.0, 20.0), "max_attempts": 3, **settings}
    if extra.get("auth_url"):
        options["auth_url"] = str(extra["auth_url"])
    source = create_source("reddit", base_url=base_url(conn), client_id=conn.login,
                           client_secret=conn.password, user_agent=agent, **options)
    return source, credential_id(f"{conn.login}:{conn.password}")


SOURCE_BUILDERS = {"x": x_source, "reddit": reddit_source}


def enabled_sources(names: tuple[str, ...]) -> tuple[list[ClipSource], dict[str, str]]:
    """The enabled sources, built from their connections, and their credential fingerprints.
    An enabled source without a usable connection is a clear error naming it."""
    built, credentials = [], {}
    for name in names:
        builder = SOURCE_BUILDERS.get(name)
        if builder is None:
            raise ConfigError(f"clip source {name!r} has no connection builder "
                              f"(known: {', '.join(sorted(SOURCE_BUILDERS))})")
        source, credentials[name] = builder()
        built.append(source)
    return built, credentials


def apprise_urls(conn_id: str) -> list[str]:
    """The Apprise URLs of a channel connection (Airflow's Apprise provider: conn type
    ``apprise``, extra ``{"config": {"path": "discord://id/token"}}`` or a list of them)."""
    from airflow.providers.apprise.hooks.apprise import AppriseHook  # only when publishing

    hook = AppriseHook(apprise_conn_id=conn_id)
    try:
        config = hook.get_config_from_conn(hook.get_connection(conn_id))
    except (KeyError, ValueError) as exc:
        raise ConfigError(f"connection {conn_id!r}: extra.config must hold Apprise URLs "
                          "({\"path\": \"discord://id/token\"})") from exc
    entries = config if isinstance(config, list) else [config]
    found = [str(e.get("path")) for e in entries if isinstance(e, dict) and e.get("path")]
    if not found:
        raise ConfigError(f"connection {conn_id!r} has no Apprise URL (extra.config.path)")
    return found


def json_variable(key: str, default: Any) -> Any:
    """A JSON Variable, or ``default`` when it is not set. Malformed JSON is a clear error."""
    raw = Variable.get(key, default=None)
    if raw is None:
        return default
    try:
        return json.loads(raw) if isinstance(raw, str) else raw
    except json.JSONDecodeError as exc:
        raise ConfigError(f"Variable {key!r} is not valid JSON: {exc}") from exc
