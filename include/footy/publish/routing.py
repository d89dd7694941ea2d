"""Which channels a goal is published to: Variable ``footy_publish``.

::

    {"channels": [
       {"conn_id": "footy_discord", "leagues": [39], "upload": true, "max_upload_mb": 8},
       {"conn_id": "footy_webhook", "teams": ["Arsenal"], "upload": false}
     ],
     "link": {"presign_seconds": 86400, "public_base_url": null}}

A channel with neither ``leagues`` nor ``teams`` takes every goal; otherwise a goal goes to it
when its league is listed or either team is (names compared without accents or case). A
channel that takes files gets the clip attached when it fits ``max_upload_mb``; otherwise,
and always for ``"upload": false``, the message carries a link: a presigned URL of the
object (``presign_seconds``) or ``public_base_url`` + the object's key.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from footy.errors import ConfigError
from footy.sources.query import fold

CONN_ID_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_-.")


@dataclass(frozen=True)
class Channel:
    conn_id: str
    leagues: frozenset[int] = frozenset()
    teams: frozenset[str] = frozenset()  # folded names
    upload: bool = True
    max_upload_bytes: int = 8 * 1024 * 1024

    def takes(self, goal: Mapping[str, Any]) -> bool:
        if not self.leagues and not self.teams:
            return True
        if goal.get("league_id") in self.leagues:
            return True
        names = {fold(str(goal.get(k) or "")) for k in ("team_name", "opponent_name")}
        return bool(self.teams & names)


@dataclass(frozen=True)
class PublishConfig:
    channels: tuple[Channel, ...] = ()
    presign_seconds: int = 86_400
    public_base_url: str | None = None
    attempts: int = 5  # sends per message within one task (429s and 5xx), with backoff
    lease_seconds: int = 120

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> PublishConfig:
        raw = raw or {}
        if not isinstance(raw, Mapping):
            raise ConfigError("footy_publish must be a JSON object")
        unknown = set(raw) - {"channels", "link", "attempts"}
        if unknown:
            raise ConfigError(f"footy_publish: unknown keys {sorted(unknown)}")
        channels = raw.get("channels", [])
        if not isinstance(channels, list):
            raise ConfigError("footy_publish.channels must be a list")
        link = raw.get("link", {}) or {}
        if not isinstance(link, Mapping) or set(link) - {"presign_seconds", "public_base_url"}:
            raise ConfigError("footy_publish.link takes presign_seconds and public_base_url")
        seconds = link.get("presign_seconds", 86_400)
        if not _whole(seconds, 60, 604_800):
            raise ConfigError("footy_publish.link.presign_seconds must be 60..604800 (S3's limit)")
        attempts = raw.get("attempts", 5)
        if not _whole(attempts, 1, 10):
            raise ConfigError("footy_publish.attempts must be a whole number within 1..10")
        base = link.get("public_base_url")
        if base is not None and (not isinstance(base, str) or "://" not in base):
            raise ConfigError("footy_publish.link.public_base_url must be a URL or null")
        parsed = tuple(_channel(c, i) for i, c in enumerate(channels))
        ids = [c.conn_id for c in parsed]
        if len(set(ids)) != len(ids):
            raise ConfigError("footy_publish.channels: a conn_id is listed twice")
        return cls(channels=parsed, presign_seconds=seconds,
                   public_base_url=base.rstrip("/") if base else None, attempts=attempts)

    def channels_for(self, goal: Mapping[str, Any]) -> list[Channel]:
        return [c for c in self.channels if c.takes(goal)]


def _whole(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _channel(raw: Any, index: int) -> Channel:
    where = f"footy_publish.channels[{index}]"
    if not isinstance(raw, Mapping):
        raise ConfigError(f"{where} must be an object")
    unknown = set(raw) - {"conn_id", "leagues", "teams", "upload", "max_upload_mb"}
    if unknown:
        raise ConfigError(f"{where}: unknown keys {sorted(unknown)}")
    conn_id = raw.get("conn_id")
    if not isinstance(conn_id, str) or not conn_id or set(conn_id.lower()) - CONN_ID_CHARS:
        raise ConfigError(f"{where}.conn_id must name an Airflow connection")
    leagues = raw.get("leagues", [])
    if not isinstance(leagues, list) or not all(
            isinstance(x, int) and not isinstance(x, bool) for x in leagues):  # fmt: skip
        raise ConfigError(f"{where}.leagues must be a list of league ids")
    teams = raw.get("teams", [])
    if not isinstance(teams, list) or not all(isinstance(x, str) and x for x in teams):
        raise ConfigError(f"{where}.teams must be a list of team names")
    upload = raw.get("upload", True)
    if not isinstance(upload, bool):
        raise ConfigError(f"{where}.upload must be true or false")
    limit = raw.get("max_upload_mb", 8)
    if isinstance(limit, bool) or not isinstance(limit, int | float) or not 0 < limit <= 500:
        raise ConfigError(f"{where}.max_upload_mb must be a number within 0..500")
    return Channel(conn_id=conn_id, leagues=frozenset(leagues),
                   teams=frozenset(fold(t) for t in teams), upload=upload,
                   max_upload_bytes=int(limit * 1024 * 1024))  # fmt: skip
