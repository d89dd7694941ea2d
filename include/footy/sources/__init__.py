"""Clip sources: the interface every source implements, and a registry of sources by name.

Usage::

    from footy.sources import create_source
    source = create_source("x", base_url=..., bearer_token=..., timeout=10.0, max_attempts=3)
    result = source.search(goal_query, since_id=last_newest_id)
"""

from footy.sources.base import (
    Candidate,
    ClipSource,
    GoalQuery,
    MediaRules,
    RateLimit,
    Rejected,
    SearchResult,
    SourceFactory,
    SourceRateLimitedError,
    available_sources,
    create_source,
    get_source_factory,
    media_rules,
    register_source,
)

__all__ = [
    "Candidate",
    "ClipSource",
    "GoalQuery",
    "MediaRules",
    "RateLimit",
    "Rejected",
    "SearchResult",
    "SourceFactory",
    "SourceRateLimitedError",
    "available_sources",
    "create_source",
    "get_source_factory",
    "media_rules",
    "register_source",
]
