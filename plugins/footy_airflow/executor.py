"""The embedded layout's executor: a LocalExecutor whose workers start with footy's task code
imported.

Every task instance runs in a fork of a LocalExecutor worker, and the DAG file it parses
imports footy's stage code with pymongo, OpenCV, numpy and yt-dlp. A fresh import of those
costs a task process a few tenths of a second of CPU, about as much as a short task's own
work, and a match day runs thousands of task instances. Imported once in the scheduler
before the workers are forked, the modules are shared by every worker and task process
(copy-on-write), so a task's parse finds them already loaded.

    AIRFLOW__CORE__EXECUTOR=footy_airflow.executor.PreloadingLocalExecutor
"""

from __future__ import annotations

import importlib
import logging
import time

from airflow.executors.local_executor import LocalExecutor

log = logging.getLogger(__name__)

# What footy's DAG files import, directly or through their tasks.
PRELOADED = (
    "footy_airflow.tasks.fixtures",
    "footy_airflow.tasks.discover",
    "footy_airflow.tasks.download",
    "footy_airflow.tasks.filter",
    "footy_airflow.tasks.publish",
    "footy_airflow.tasks.cleanup",
    "footy_airflow.tasks.pipeline",
    "footy_airflow.sensors",
    "footy.dedup.fingerprint",
    "footy.dedup.verify",
    "footy.download.fetch",
)


def preload(names: tuple[str, ...] = PRELOADED) -> list[str]:
    """Import ``names``; those that fail are logged and left to the task that needs them
    (where the error shows in the task's own log)."""
    loaded = []
    for name in names:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a task importing it will report the real error
            log.warning("footy: could not preload %s", name, exc_info=True)
        else:
            loaded.append(name)
    return loaded


class PreloadingLocalExecutor(LocalExecutor):
    """LocalExecutor that imports footy's task code before it forks its workers."""

    def start(self) -> None:
        started = time.monotonic()
        loaded = preload()
        log.info("footy: preloaded %d of %d modules for task processes in %.1fs",
                 len(loaded), len(PRELOADED), time.monotonic() - started)
        super().start()
