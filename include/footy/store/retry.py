"""Retry a store write that the database refused only because it was busy.

FerretDB keeps each database in one SQLite file, which allows one writer at a time. Under
load a write can wait past SQLite's busy timeout and fail with "database is locked
(SQLITE_BUSY)". SQLite rolled that statement back, so running the same write again is safe;
giving up on the first refusal would fail a task over a momentary queue.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from pymongo.errors import OperationFailure
from tenacity import (
    RetryError,
    Retrying,
    before_sleep_log,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from footy.store.db import StoreError

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

ATTEMPTS = 6
FIRST_WAIT_SECONDS = 0.2
MAX_WAIT_SECONDS = 5.0


def is_database_locked(exc: BaseException) -> bool:
    """True for SQLite's "database is locked" as reported by FerretDB."""
    if not isinstance(exc, OperationFailure):
        return False
    message = str(exc)
    return "database is locked" in message or "SQLITE_BUSY" in message


def retry_when_locked(fn: Callable[P, R]) -> Callable[P, R]:
    """Repeat ``fn`` with backoff while the database is locked; then raise ``StoreError``.

    Only for functions that are safe to repeat after a refused write: a single write, or
    writes that each check the state they change.
    """

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        retrying = Retrying(
            retry=retry_if_exception(is_database_locked),
            stop=stop_after_attempt(ATTEMPTS),
            wait=wait_exponential_jitter(initial=FIRST_WAIT_SECONDS, max=MAX_WAIT_SECONDS),
            before_sleep=before_sleep_log(log, logging.WARNING),
        )
        try:
            return retrying(fn, *args, **kwargs)
        except RetryError as exc:
            last = exc.last_attempt.exception()
            raise StoreError(
                f"{fn.__name__}: the database stayed locked through {ATTEMPTS} attempts: {last}"
            ) from last

    return wrapper
