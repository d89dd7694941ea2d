"""The embedded default: how Airflow is pointed at the local stand-ins, as environment.

``make run`` and the end-to-end test both start FerretDB, the stand-in server (API-Football,
X and the clip host in one) and ``airflow standalone`` with this environment. Everything is
an ordinary Airflow connection or variable, so the same DAGs run against the real services
when those connections point there instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlsplit

# Compressed time needs a faster cadence than production's defaults.
DISCOVERY = {"attempts": 4, "interval_seconds": 15, "enough_clips": 10}
REDDIT_AGENT = "python:footy-embedded:1.0 (local stand-in)"
DISCORD_WEBHOOK = "1234567890/embedded-webhook-token"  # the stand-in's Discord channel
# The module file itself: Apprise loads only __init__.py from a folder that has one.
PLUGIN_PATHS = Path(__file__).resolve().parent / "apprise_plugins" / "discord_standin.py"


def embedded_env(
    root: Path,
    *,
    standin_url: str,
    mongo_uri: str,
    league_ids: list[int],
    season: int,
    poll_seconds: int = 10,
    sources: tuple[str, ...] = ("x", "reddit"),
) -> dict[str, str]:
    """``sources`` are the clip sources searched; a source left out gets no connection at
    all (``("reddit",)`` is a user without an X account)."""
    env = {
        "AIRFLOW_CONN_MONGO_DEFAULT": mongo_uri.replace("mongodb://", "mongo://", 1),
        "AIRFLOW_CONN_API_FOOTBALL": json.dumps(
            {"conn_type": "http", "host": standin_url, "password": "embedded-api-key"}),
        "AIRFLOW_CONN_X_API": json.dumps(
            {"conn_type": "http", "host": standin_url, "password": "embedded-bearer-token"}),
        "AIRFLOW_CONN_REDDIT_API": json.dumps(
            {"conn_type": "http", "host": standin_url, "login": "embedded-app",
             "password": "embedded-secret",
             "extra": {"user_agent": REDDIT_AGENT, "auth_url": standin_url}}),
        "FOOTY_STORAGE_URL": (root / ".footy" / "storage").resolve().as_uri(),
        # The clip hosts are the stand-in on loopback: allowed by configuration, not by code,
        # and only its port (not the Airflow API's, on the same address).
        "FOOTY_X_MEDIA_HOSTS": urlsplit(standin_url).netloc,
        "FOOTY_REDDIT_MEDIA_HOSTS": urlsplit(standin_url).netloc,
        "FOOTY_DOWNLOAD_ALLOW_PRIVATE": "1",
        "FOOTY_MONITOR_POLL_SECONDS": str(poll_seconds),
        "AIRFLOW_VAR_FOOTY_TRACKING": json.dumps({"league_ids": league_ids, "season": season}),
        "AIRFLOW_VAR_FOOTY_ACTIVATION_LEAD_MINUTES": "1",
        "AIRFLOW_VAR_FOOTY_DISCOVERY": json.dumps({**DISCOVERY, "sources": list(sources)}),
        # publish_clips posts to the stand-in's Discord webhook API, through Apprise's own
        # Discord plugin pointed there (Apprise's Discord URLs name discord.com only).
        "AIRFLOW_CONN_FOOTY_DISCORD": json.dumps({"conn_type": "apprise", "extra": {
            "config": {"path": f"discordstandin://{DISCORD_WEBHOOK}"}}}),
        "AIRFLOW_VAR_FOOTY_PUBLISH": json.dumps(
            {"channels": [{"conn_id": "footy_discord", "max_upload_mb": 8}]}),
        "FOOTY_APPRISE_PLUGIN_PATHS": str(PLUGIN_PATHS),
        "FOOTY_DISCORD_API_URL": f"{standin_url}/api/webhooks",
    }
    for name, conn in (("x", "AIRFLOW_CONN_X_API"), ("reddit", "AIRFLOW_CONN_REDDIT_API")):
        if name not in sources:
            del env[conn]
    return env


def real_env(root: Path, *, api_football_key: str, x_bearer_token: str) -> dict[str, str]:
    """The same pipeline against API-Football and X (keys from the user's environment)."""
    return {
        "AIRFLOW_CONN_API_FOOTBALL": json.dumps({
            "conn_type": "http", "host": "https://v3.football.api-sports.io",
            "password": api_football_key}),
        "AIRFLOW_CONN_X_API": json.dumps({
            "conn_type": "http", "host": "https://api.x.com", "password": x_bearer_token}),
        "FOOTY_STORAGE_URL": (root / ".footy" / "storage").resolve().as_uri(),
    }
