"""Queries that name "now": stored as JSON (a trigger serialises them), resolved at run time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

NOW = "$$NOW"  # placeholder in a query, replaced by the current UTC time at every check


def resolve_query(query: Any, now: datetime) -> Any:
    """Replace every ``"$$NOW"`` value with ``now`` (the input is not mutated)."""
    if query == NOW:
        return now
    if isinstance(query, dict):
        return {key: resolve_query(value, now) for key, value in query.items()}
    if isinstance(query, list):
        return [resolve_query(value, now) for value in query]
    return query
