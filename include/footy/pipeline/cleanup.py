"""Retention: remove what the pipeline no longer needs, never what is in flight.

A fixture completed longer ago than the retention period goes with everything of it: its
stored objects (every object under ``{fixture_id}/``, strays included), claims, clips and
goals, then the fixture document. A fixture with an unfinished goal or a live claim is left
for a later run, with the reason. Objects go before documents: a crash in between leaves
documents that the next run finds and finishes, never objects nobody knows about. Listed
fixtures that never went live are dropped once their kick-off is as old, and so are the
API usage counters of old days. A dry run reports the same without removing anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database

from footy.errors import ConfigError
from footy.storage import ClipStorage
from footy.store import retention

DEFAULT_RETENTION = timedelta(days=14)


def retention_from(raw: Any) -> timedelta:
    """Variable ``footy_retention_days``: a positive number of days (default 14)."""
    if raw in (None, ""):
        return DEFAULT_RETENTION
    try:
        days = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"footy_retention_days must be a number of days, not {raw!r}") from None
    if not days > 0:
        raise ConfigError(f"footy_retention_days must be positive, not {raw!r}")
    return timedelta(days=days)


@dataclass
class CleanupReport:
    dry_run: bool
    cutoff: datetime
    fixtures: list[dict[str, Any]]
    kept_back: list[dict[str, Any]]
    staging: int = 0
    usage_days: int = 0

    @property
    def bytes_freed(self) -> int:
        return sum(f["bytes"] for f in self.fixtures)

    def as_dict(self) -> dict[str, Any]:
        return {"dry_run": self.dry_run, "cutoff": self.cutoff.isoformat(),
                "fixtures": self.fixtures, "kept_back": self.kept_back,
                "staging": self.staging, "usage_days": self.usage_days,
                "bytes_freed": self.bytes_freed}  # fmt: skip


def clean_up(db: Database, storage: ClipStorage, now: datetime, retention_period: timedelta,
             *, dry_run: bool = False) -> CleanupReport:  # fmt: skip
    cutoff = now - retention_period
    report = CleanupReport(dry_run, cutoff, [], [])
    for fixture_id in retention.expired_fixture_ids(db, cutoff):
        contents = retention.fixture_contents(db, fixture_id)
        reason = _in_flight(db, contents, now)
        if reason:
            report.kept_back.append({"fixture": fixture_id, "reason": reason})
            continue
        objects = storage.list(f"{fixture_id}/")
        entry = {"fixture": fixture_id, "goals": len(contents["goal_ids"]),
                 "clips": len(contents["video_ids"]), "objects": len(objects),
                 "bytes": sum(o.size for o in objects)}  # fmt: skip
        if not dry_run:
            for obj in objects:
                storage.delete(obj.key)
            removed = retention.delete_fixture_records(db, fixture_id, contents, cutoff, now)
            entry.update(goals=removed["goals"], clips=removed["clips"],
                         claims=removed["claims"], fixture_removed=bool(removed["fixtures"]))
        report.fixtures.append(entry)
    staging = retention.stale_staging_ids(db, cutoff)
    usage = retention.old_usage_ids(db, cutoff)
    report.staging, report.usage_days = len(staging), len(usage)
    if not dry_run:
        for fixture_id in staging:
            retention.delete_staging(db, fixture_id, cutoff)
        retention.delete_usage(db, usage)
    return report


def _in_flight(db: Database, contents: dict[str, Any], now: datetime) -> str | None:
    if contents["unfinished"]:
        return f"goal(s) not completed: {', '.join(contents['unfinished'][:3])}"
    claims = retention.live_claims(db, contents["goal_ids"] + contents["video_ids"], now)
    if claims:
        return f"{claims} live claim(s): a worker is on it"
    return None
