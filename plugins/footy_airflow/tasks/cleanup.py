"""The task of the cleanup DAG: retention, with a report in the log."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import Variable, task
from airflow.sdk.exceptions import AirflowSkipException

from footy.pipeline.cleanup import clean_up, retention_from
from footy_airflow.mongo import footy_db
from footy_airflow.storage import clip_storage

log = logging.getLogger(__name__)

RETENTION_VARIABLE = "footy_retention_days"


@task(multiple_outputs=False)
def remove_expired(params: dict[str, Any] | None = None) -> dict[str, Any]:
    """Remove fixtures (with goals, clips, claims, objects) past the retention period."""
    dry_run = bool((params or {}).get("dry_run"))
    period = retention_from(Variable.get(RETENTION_VARIABLE, default=None))
    report = clean_up(footy_db(), clip_storage(), datetime.now(UTC), period, dry_run=dry_run)
    verb = "would remove" if dry_run else "removed"
    for f in report.fixtures:
        log.info("fixture %s: %s %d goal(s), %d clip(s), %d object(s), %d bytes", f["fixture"],
                 verb, f["goals"], f["clips"], f["objects"], f["bytes"])  # fmt: skip
    for f in report.kept_back:
        log.info("fixture %s: kept for now: %s", f["fixture"], f["reason"])
    log.info("%s %d fixture(s) completed before %s, %d stale listed fixture(s), %d API usage "
             "day(s); %d bytes %s", verb, len(report.fixtures), report.cutoff.isoformat(),
             report.staging, report.usage_days, report.bytes_freed,
             "would be freed" if dry_run else "freed")  # fmt: skip
    if not (report.fixtures or report.staging or report.usage_days):
        raise AirflowSkipException(f"nothing older than {period.days} day(s) to remove"
                                   + (f"; {len(report.kept_back)} kept back" if report.kept_back
                                      else ""))  # fmt: skip
    return report.as_dict()
