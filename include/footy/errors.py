"""Typed errors shared by every stage.

An error is recorded where an operator sees it as ``{"type": <class name>, "message": ...}``;
``transient`` tells a stage whether to try again later or give up on the item.
"""

from __future__ import annotations


class FootyError(Exception):
    """Base of every error this project raises on purpose."""

    transient: bool = False

    def as_record(self) -> dict[str, str]:
        return {"type": type(self).__name__, "message": str(self)}


class TransientError(FootyError):
    """Worth retrying later: timeouts, 5xx, rate limits, a busy database."""

    transient = True


class PermanentError(FootyError):
    """Retrying will not help: bad credentials, malformed data, a removed post."""


class PayloadError(PermanentError):
    """An external payload is not the shape we rely on. Names the offending field."""

    def __init__(self, field: str, problem: str, *, source: str = "payload") -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{source}: field {field!r} {problem}")


class CredentialsRejectedError(PermanentError):
    """A source refused the credentials it was given (401/403): every call would fail alike
    until they change."""


class ConfigError(PermanentError):
    """A setting, connection or manual conf is missing or malformed."""


def error_record(exc: BaseException) -> dict[str, str]:
    """The operator-facing record of any exception (typed or not)."""
    if isinstance(exc, FootyError):
        return exc.as_record()
    return {"type": type(exc).__name__, "message": str(exc) or repr(exc)}
