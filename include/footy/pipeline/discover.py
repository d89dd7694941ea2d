"""scrape_twitter: one search attempt for one goal, within the goal's search window.

A goal is searched up to ``attempts`` times, ``interval`` apart, because clips appear over
minutes. Each attempt asks the source only for posts newer than the previous attempt's
newest (``since_id``), gates every post on its metadata and stores it in ``videos``
(accepted -> ``candidate``, else ``rejected`` with ``reject_reasons``), then records on the
goal when the next attempt is due (``processing_status.search.next_at``). The window ends
(``twitter_scraped: true``) after the last attempt or once ``enough_clips`` were accepted.

Failures: a 429 moves the next attempt to the rate-limit reset without using up an attempt;
timeouts, 5xx and malformed payloads are recorded on the goal and retried at the next
attempt (``max_errors`` of them end the window); a rejected credential or request is recorded
and raised, because every other goal would fail the same way. Nothing stored is ever lost:
candidates are inserted one by one and never overwritten.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pymongo.database import Database

from footy.errors import (
    ConfigError,
    CredentialsRejectedError,
    FootyError,
    PayloadError,
    TransientError,
)
from footy.goals import WITHDRAWN as WITHDRAWN_TRACK
from footy.sources import (
    Candidate,
    ClipSource,
    GoalQuery,
    Rejected,
    SearchResult,
    SourceRateLimitedError,
    available_sources,
)
from footy.sources.gates import GateConfig, check
from footy.sources.query import QueryConfig
from footy.sources.reddit_titles import possible_scores_after, same_team
from footy.store import sources
from footy.store.claims import Claim, claim_goal, release, unclaimed
from footy.store.db import GOALS, as_utc
from footy.store.discovery import (
    CANDIDATE,
    REJECTED,
    SEARCH,
    accepted_count,
    due_goal_ids,
    find_goal,
    insert_new_videos,
    rejected_count,
    stored_source_ids,
    video_id,
)
from footy.store.fixtures import find_fixture
from footy.store.goals import CONFIRMED
from footy.store.heartbeat import LEASE, ClaimHeartbeat
from footy.store.status import Stage, mark_stage_done, mark_stage_failed

log = logging.getLogger(__name__)

OWN_GOAL = "Own Goal"
HALF_TIME_BREAK = timedelta(minutes=15)
EXTRA_TIME_BREAK = timedelta(minutes=5)

_GATE_FIELDS = {
    "min_duration_s": float, "max_duration_s": float, "min_aspect": float,
    "max_aspect": float, "min_short_edge": int,
}  # fmt: skip


def _positive(raw: Mapping[str, Any], key: str, default: float, kind: type) -> Any:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"footy_discovery.{key} must be a positive number, got {value!r}")
    if kind is int and value != int(value):
        raise ConfigError(f"footy_discovery.{key} must be a whole number, got {value!r}")
    return kind(value)


def _share(raw: Mapping[str, Any], key: str, default: float) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1:
        raise ConfigError(f"footy_discovery.{key} must be a number from 0 to below 1, "
                          f"got {value!r}")
    return float(value)


def gate_config(raw: Mapping[str, Any]) -> GateConfig:
    """``{"min_duration_s": 3, ..., "posted_grace_seconds": 60}`` -> GateConfig."""
    if not isinstance(raw, Mapping):
        raise ConfigError("footy_discovery.gates must be an object")
    known = set(_GATE_FIELDS) | {"posted_grace_seconds"}
    unknown = set(raw) - known
    if unknown:
        raise ConfigError(f"footy_discovery.gates: unknown keys {sorted(unknown)}")
    kwargs: dict[str, Any] = {}
    for key, kind in _GATE_FIELDS.items():
        if key in raw:
            kwargs[key] = _positive(raw, key, 0, kind)
    if "posted_grace_seconds" in raw:
        grace = raw["posted_grace_seconds"]
        if isinstance(grace, bool) or not isinstance(grace, int | float) or grace < 0:
            raise ConfigError("footy_discovery.gates.posted_grace_seconds must be >= 0")
        kwargs["posted_grace"] = timedelta(seconds=grace)
    try:
        return GateConfig(**kwargs)
    except ValueError as exc:
        raise ConfigError(f"footy_discovery.gates: {exc}") from exc


def _aliases(raw: Any) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping) or not all(
        isinstance(k, str) and isinstance(v, list) and all(isinstance(a, str) for a in v)
        for k, v in raw.items()
    ):
        raise ConfigError("footy_discovery.team_aliases must map team names to lists of names")
    return {k: tuple(v) for k, v in raw.items()}


def _source_names(raw: Any) -> tuple[str, ...]:
    known = available_sources()
    if not isinstance(raw, list) or not raw or not all(isinstance(n, str) for n in raw):
        raise ConfigError(f"footy_discovery.sources must be a non-empty list of names from {known}")
    unknown = [n for n in raw if n not in known]
    if unknown:
        raise ConfigError(f"footy_discovery.sources: unknown {unknown} (known: {known})")
    return tuple(dict.fromkeys(raw))


@dataclass(frozen=True)
class DiscoveryConfig:
    """The search window and gates (Airflow Variable ``footy_discovery``, all optional)."""

    attempts: int = 10
    interval: timedelta = timedelta(seconds=60)
    enough_clips: int = 10
    max_errors: int = 10
    lease: timedelta = LEASE  # renewed by a heartbeat while the search runs
    gates: GateConfig = field(default_factory=GateConfig)
    team_aliases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    sources: tuple[str, ...] = ("x",)
    # Share of a source's request window kept for goals not searched yet: a repeat attempt
    # waits for the next window rather than spend it (a burst of goals must not find X
    # rate limited by the repeat searches of earlier ones).
    repeat_reserve: float = 0.4

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any] | None) -> DiscoveryConfig:
        raw = raw or {}
        if not isinstance(raw, Mapping):
            raise ConfigError("footy_discovery must be a JSON object")
        known = {"attempts", "interval_seconds", "enough_clips", "max_errors",
                 "lease_seconds", "gates", "team_aliases", "sources", "repeat_reserve"}  # fmt: skip
        unknown = set(raw) - known
        if unknown:
            raise ConfigError(f"footy_discovery: unknown keys {sorted(unknown)}")
        return cls(
            attempts=_positive(raw, "attempts", cls.attempts, int),
            interval=timedelta(seconds=_positive(raw, "interval_seconds", 60, float)),
            enough_clips=_positive(raw, "enough_clips", cls.enough_clips, int),
            max_errors=_positive(raw, "max_errors", cls.max_errors, int),
            lease=timedelta(seconds=_positive(raw, "lease_seconds", LEASE.total_seconds(), float)),
            gates=gate_config(raw.get("gates", {})),
            team_aliases=_aliases(raw.get("team_aliases", {})),
            sources=_source_names(raw.get("sources", ["x"])),
            repeat_reserve=_share(raw, "repeat_reserve", cls.repeat_reserve),
        )

    def aliases_for(self, team_name: str | None) -> list[str]:
        if not team_name:
            return []
        return QueryConfig(team_aliases=self.team_aliases).aliases_for(team_name)


def goals_still_due(db: Database, goal_ids: list[str], now: datetime) -> list[str]:
    """Of the goals a sensor found due, those still due now and not being searched by
    another run: overlapping runs wake on the same goals, and a task mapped for a goal
    already searched would only start a process to skip it."""
    if not goal_ids:
        return []
    due = set(due_goal_ids(db, now, among=goal_ids))
    return unclaimed(db, Stage.DISCOVER, [g for g in goal_ids if g in due], now)


def estimated_goal_time(goal: Mapping[str, Any], now: datetime) -> datetime:
    """When the goal most likely happened, erring early (an early estimate only widens the
    search and relaxes the "posted after the goal" gate; a late one would drop real clips).

    Kickoff + match minute + the breaks before it, capped by the poll before the one that
    first showed the goal and by its confirmation. The cap matters when the match clock runs
    late (a delayed kick-off, a compressed replay) and polls lag: the debounce confirms a
    goal several polls after it happened.
    """
    estimates = [as_utc(goal[k]) for k in ("first_seen_after", "confirmed_at")
                 if isinstance(goal.get(k), datetime)]
    kickoff, elapsed = goal.get("kickoff"), goal.get("elapsed")
    if isinstance(kickoff, datetime) and isinstance(elapsed, int):
        played = timedelta(minutes=elapsed + int(goal.get("extra") or 0))
        breaks = (HALF_TIME_BREAK if elapsed > 45 else timedelta()) + (
            EXTRA_TIME_BREAK if elapsed > 90 else timedelta()
        )
        estimates.append(as_utc(kickoff) + played + breaks)
    return min(estimates) if estimates else now


def goal_query(goal: Mapping[str, Any], cfg: DiscoveryConfig, now: datetime, *,
               scores_after: Sequence[tuple[int, int]] = (),
               rivals: Sequence[GoalQuery] = ()) -> GoalQuery:  # fmt: skip
    """The search for a goal. An own goal's scorer plays for the other team, so both teams'
    names (and aliases) are searched with the scorer's name. Sources that read what a post
    says also get the score after the goal and the goals a post could be confused with."""
    team = str(goal.get("team_name") or "")
    opponent = goal.get("opponent_name")
    aliases = cfg.aliases_for(team)
    if goal.get("detail") == OWN_GOAL and opponent:
        aliases += [opponent, *cfg.aliases_for(opponent)]
    try:
        return GoalQuery(
            goal_id=str(goal["_id"]),
            fixture_id=int(goal["fixture_id"]),
            scorer_name=str(goal.get("player_name") or ""),
            team_name=team,
            goal_time=estimated_goal_time(goal, now),
            minute=goal.get("elapsed"),
            opponent_name=opponent,
            team_aliases=tuple(aliases),
            opponent_aliases=tuple(cfg.aliases_for(opponent)),
            stoppage=goal.get("extra"),
            own_goal=goal.get("detail") == OWN_GOAL,
            scores_after=tuple(scores_after),
            rivals=tuple(rivals),
        )
    except (KeyError, ValueError, TypeError) as exc:
        raise ConfigError(f"goal {goal.get('_id')} cannot be searched: {exc}") from exc


def _match_clock(record: Mapping[str, Any]) -> tuple[int, int]:
    return int(record.get("elapsed") or 0), int(record.get("extra") or 0)


def scores_after(db: Database, goal: Mapping[str, Any],
                 fixtures: dict[int, Mapping[str, Any]] | None = None, *,
                 own_goals_as_filed: bool = False) -> tuple[tuple[int, int], ...]:  # fmt: skip
    """The (team, opponent) scores the goal can have left, from its fixture's goal tracks
    (pending and confirmed ones; withdrawn goals never counted). Empty when unknown.

    Own goals count for either side (feeds disagree on which team they are filed under),
    unless ``own_goals_as_filed``: then each counts for the team the feed filed it under, the
    one reading footy's own messages use."""
    fixtures = {} if fixtures is None else fixtures
    fixture_id = goal.get("fixture_id")
    if not isinstance(fixture_id, int):
        return ()
    if fixture_id not in fixtures:
        found = find_fixture(db, fixture_id)
        fixtures[fixture_id] = found[1] if found else {}
    tracks = list((fixtures[fixture_id].get("debounce") or {}).values())
    if not tracks:
        return ()
    mine = _match_clock(goal)
    earlier: list[bool | None] = []
    same: list[bool | None] = []
    for track in tracks:
        if track.get("goal_id") == goal.get("_id") or track.get("state") == WITHDRAWN_TRACK:
            continue
        side = track.get("team_id") == goal.get("team_id")
        if track.get("kind") == "own" and not own_goals_as_filed:
            side = None
        when = _match_clock(track)
        if when < mine:
            earlier.append(side)
        elif when == mine:
            same.append(side)
    own_goal = goal.get("detail") == OWN_GOAL and not own_goals_as_filed
    return possible_scores_after(earlier, same, own_goal=own_goal)


RIVAL_WINDOW = timedelta(hours=6)
_RIVAL_FIELDS = {"fixture_id": 1, "team_id": 1, "team_name": 1, "opponent_name": 1,
                 "player_name": 1, "elapsed": 1, "extra": 1, "detail": 1, "kickoff": 1,
                 "first_seen_after": 1, "confirmed_at": 1}  # fmt: skip


def rivals(db: Database, goal: Mapping[str, Any], cfg: DiscoveryConfig,
           now: datetime) -> tuple[GoalQuery, ...]:  # fmt: skip
    """Other confirmed goals a post about ``goal`` could also describe: those of its fixture
    and those of fixtures around the same time between teams of the same names."""
    names = [n for n in (goal.get("team_name"), goal.get("opponent_name")) if n]
    names += [a for n in list(names) for a in cfg.aliases_for(n)]
    query: dict[str, Any] = {"status": CONFIRMED, "_id": {"$ne": goal.get("_id")}}
    kickoff = goal.get("kickoff")
    if isinstance(kickoff, datetime):
        query["kickoff"] = {"$gte": kickoff - RIVAL_WINDOW, "$lte": kickoff + RIVAL_WINDOW}
    fixtures: dict[int, Mapping[str, Any]] = {}
    found = []
    for other in db[GOALS].find(query, _RIVAL_FIELDS):
        if other.get("fixture_id") != goal.get("fixture_id") and not any(
                same_team(str(other.get(k) or ""), names)
                for k in ("team_name", "opponent_name")):  # fmt: skip
            continue
        try:
            found.append(goal_query(other, cfg, now,
                                    scores_after=scores_after(db, other, fixtures)))
        except ConfigError:
            continue  # a goal that cannot be searched cannot be confused with either
    return tuple(found)


def _video_doc(goal: Mapping[str, Any], item: Candidate | Rejected, reasons: list[str],
               attempt: int, now: datetime) -> dict[str, Any]:  # fmt: skip
    if isinstance(item, Candidate):
        meta = item.to_document()
    else:  # the source could not even build a candidate (truncated id, no MP4...)
        meta = {"source": item.source, "source_id": item.source_id, "post_url": item.post_url,
                "media_url": None, "reject_detail": item.detail}  # fmt: skip
    doc: dict[str, Any] = {
        "_id": video_id(str(goal["_id"]), item.source, item.source_id),
        "goal_id": goal["_id"],
        "fixture_id": goal.get("fixture_id"),
        **meta,
        "state": REJECTED if reasons else CANDIDATE,
        "found_at": now,
        "found_attempt": attempt,
    }
    if reasons:
        doc["reject_reasons"] = reasons
    return doc


def gate_documents(goal: Mapping[str, Any], result: SearchResult, goal_time: datetime,
                   known: set[str], cfg: DiscoveryConfig, attempt: int,
                   now: datetime) -> list[dict[str, Any]]:  # fmt: skip
    """``videos`` documents for the posts of ``result`` not stored for the goal yet."""
    docs = []
    for candidate in result.candidates:
        if candidate.source_id not in known:
            reasons = check(candidate, goal_time, cfg.gates)
            docs.append(_video_doc(goal, candidate, reasons, attempt, now))
    for rejected in result.rejected:
        if rejected.source_id not in known:
            docs.append(_video_doc(goal, rejected, list(rejected.reasons), attempt, now))
    return docs


def _max_id(a: str | None, b: str | None) -> str | None:
    ids = [x for x in (a, b) if x and x.isdigit()]
    return max(ids, key=int) if ids else None


def _skip(goal_id: str, label: str, reason: str) -> dict[str, Any]:
    return {"goal_id": goal_id, "label": label, "status": "skipped", "reason": reason,
            "new_candidates": [], "new_rejected": [], "finished": False}  # fmt: skip


def _not_searchable(goal: Mapping[str, Any] | None, now: datetime, *, due_only: bool,
                    force: bool) -> str | None:  # fmt: skip
    """Why the goal must not be searched now (None when it may be)."""
    if goal is None:
        return "unknown goal"
    if goal.get("status") != CONFIRMED:
        return f"goal is {goal.get('status')}, not confirmed"
    status = goal.get("processing_status") or {}
    if status.get("twitter_scraped") and not force:
        return "search window already ended (conf force=true searches again)"
    next_at = (status.get("search") or {}).get("next_at")
    if due_only and next_at is not None and as_utc(next_at) > now:
        return f"next attempt not due until {as_utc(next_at).isoformat()}"
    return None


def _as_list(found: ClipSource | Sequence[ClipSource]) -> list[ClipSource]:
    return [found] if isinstance(found, ClipSource) else list(found)


def discover_goal(
    db: Database,
    clip_sources: ClipSource | Sequence[ClipSource],
    goal_id: str,
    *,
    owner: str,
    now: datetime,
    cfg: DiscoveryConfig | None = None,
    due_only: bool = True,
    force: bool = False,
    credentials: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Claim the goal, run one search attempt on every source, store the posts, record the
    outcome.

    ``due_only=False`` (a manual run) searches before ``next_at``; ``force=True`` also
    searches a goal whose window has ended. Returns a JSON-able summary; ``status`` is
    ``searched``, ``skipped``, ``rate_limited`` or ``error``.

    Each source keeps its own state on the goal (``search.sources.<name>``: ``since_id``,
    ``rate_limited_until``, ``last_error``, ``last_query``). A source that is rate limited or
    fails does not hold the others back: the attempt counts when at least one source
    answered. ``credentials`` maps a source name to the fingerprint of what it was built with
    (``footy.store.sources.credential_id``): a source whose credentials were rejected is
    paused for them (the first rejection raises once the other sources' posts are stored;
    later goals skip it without a call) and resumes when it is given others.
    """
    cfg = cfg or DiscoveryConfig()
    enabled = _as_list(clip_sources)
    if not enabled:
        raise ConfigError("no clip source is enabled (footy_discovery.sources)")
    goal = find_goal(db, goal_id)
    label = str((goal or {}).get("label") or goal_id)
    if goal is None:
        raise ConfigError(f"goal {goal_id!r} is not known")
    active, paused_reasons = [], []
    for source in enabled:
        credential = (credentials or {}).get(source.name)
        if credential is not None:
            if sources.resume_if_changed(db, source.name, credential, now):
                log.info("source %s: credentials changed, resumed", source.name)
            pause = sources.paused(db, source.name)
            if pause:
                paused_reasons.append(_paused_reason(source.name, pause))
                continue
        active.append(source)
    if not active:
        return _skip(goal_id, label, "; ".join(paused_reasons))
    reason = _not_searchable(goal, now, due_only=due_only, force=force)
    if reason:
        return _skip(goal_id, label, reason)
    claim = claim_goal(db, Stage.DISCOVER, goal_id, owner, cfg.lease, now=now)
    if claim is None:
        return _skip(goal_id, label, "another run is searching this goal")
    # Re-read under the claim: a run that finished just before us has moved next_at on.
    goal = find_goal(db, goal_id)
    reason = _not_searchable(goal, now, due_only=due_only, force=force)
    if reason or goal is None:
        release(db, claim)
        return _skip(goal_id, label, reason or "unknown goal")
    with ClaimHeartbeat(db, claim, cfg.lease):
        summary, rejected = _attempt(db, active, goal, claim, label, now, cfg)
    for name, exc in rejected.items():
        credential = (credentials or {}).get(name)
        if credential is None or sources.pause(db, name, credential, exc, now):
            raise exc  # the first goal to meet it fails, loudly; its other posts are stored
    if paused_reasons:
        summary["paused"] = paused_reasons
    return summary


def _paused_reason(name: str, pause: dict[str, Any] | None) -> str:
    pause = pause or {}
    at = pause.get("at")
    error = (pause.get("error") or {}).get("type", "credentials rejected")
    since = f" since {as_utc(at).isoformat(timespec='seconds')}" if at else ""
    return (f"source {name} paused{since}: its credentials were rejected ({error}); "
            "change its connection to resume")


def _source_state(search: Mapping[str, Any], name: str) -> dict[str, Any]:
    state = dict((search.get("sources") or {}).get(name) or {})
    if name == "x" and "since_id" not in state and search.get("since_id"):
        state["since_id"] = search["since_id"]  # kept by a window that began before sources
    return state


def _newer_id(previous: str | None, found: str | None) -> str | None:
    """The since_id to keep: the larger of two numeric ids (X), else the newest given."""
    if previous and found and previous.isdigit() and found.isdigit():
        return max(previous, found, key=int)
    return found or previous


@dataclass
class _Outcome:
    """What each source did in one attempt."""

    results: dict[str, SearchResult] = field(default_factory=dict)
    rate_limited: dict[str, SourceRateLimitedError] = field(default_factory=dict)
    failed: dict[str, FootyError] = field(default_factory=dict)
    rejected: dict[str, CredentialsRejectedError] = field(default_factory=dict)
    waiting: dict[str, datetime] = field(default_factory=dict)  # still rate limited
    postponed: set[str] = field(default_factory=set)  # of those, by the window's reserve


def window_spent(window: Mapping[str, Any] | None, attempt: int, now: datetime,
                 reserve: float) -> datetime | None:  # fmt: skip
    """When a search must wait for the source's next request window, its reset; else None.

    A goal's first search may use the window to its last request; a repeat attempt leaves
    ``reserve`` of the window's limit to goals not searched yet. An unknown or past window
    never holds a search back (X's own 429 remains the last word).
    """
    if not window or window.get("remaining") is None or window.get("reset_at") is None:
        return None
    reset = as_utc(window["reset_at"])
    if reset <= now:
        return None
    keep = 0 if attempt <= 1 else math.ceil(reserve * int(window.get("limit") or 0))
    return reset if int(window["remaining"]) <= keep else None


def _search_all(db: Database, active: list[ClipSource], query: GoalQuery,
                search: Mapping[str, Any], attempt: int, now: datetime,
                cfg: DiscoveryConfig) -> _Outcome:  # fmt: skip
    outcome = _Outcome()
    known = sources.windows(db, [s.name for s in active])
    for source in active:
        state = _source_state(search, source.name)
        until = state.get("rate_limited_until")
        if isinstance(until, datetime) and as_utc(until) > now:
            outcome.waiting[source.name] = as_utc(until)
            continue
        until = window_spent(known.get(source.name), attempt, now, cfg.repeat_reserve)
        if until is not None:
            outcome.waiting[source.name] = until
            outcome.postponed.add(source.name)
            continue
        try:
            result = source.search(query, since_id=state.get("since_id"))
            outcome.results[source.name] = result
            if result.rate_limit is not None:
                sources.record_window(db, source.name, result.rate_limit.limit,
                                      result.rate_limit.remaining, result.rate_limit.reset_at)
        except SourceRateLimitedError as exc:
            sources.record_window(db, source.name, None, 0, exc.reset_at)
            outcome.rate_limited[source.name] = exc
        except CredentialsRejectedError as exc:
            outcome.rejected[source.name] = exc
        except (TransientError, PayloadError) as exc:
            outcome.failed[source.name] = exc
    return outcome


def _attempt(db: Database, active: list[ClipSource], goal: dict[str, Any], claim: Claim,
             label: str, now: datetime,
             cfg: DiscoveryConfig) -> tuple[dict[str, Any], dict[str, Exception]]:  # fmt: skip
    goal_id = str(goal["_id"])
    status = goal.get("processing_status") or {}
    search = status.get("search") or {}
    attempt = int(search.get("attempts") or 0) + 1
    summary = _skip(goal_id, label, "")
    summary.update(reason=None, attempt=attempt)
    try:
        # Only sources that read what a post says use the score and the rivals: an X-only
        # search skips the fixture and goal look-ups they cost.
        if any(getattr(s, "reads_posts", False) for s in active):
            query = goal_query(goal, cfg, now, scores_after=scores_after(db, goal),
                               rivals=rivals(db, goal, cfg, now))
        else:
            query = goal_query(goal, cfg, now)
    except ConfigError as exc:  # nothing usable to search with: retrying cannot help
        return _record_error(db, goal, claim, exc, summary, now, cfg, give_up=True), {}
    try:
        outcome = _search_all(db, active, query, search, attempt, now, cfg)
    except BaseException as exc:
        # A refused request, a bug: every goal would fail alike. Record, raise.
        mark_stage_failed(db, claim, exc, now=now,
                          fields={f"{SEARCH}.next_at": now + cfg.interval})
        raise
    per_source: dict[str, Any] = {}
    for name, limited in outcome.rate_limited.items():
        until = max(as_utc(limited.reset_at), now)
        per_source[f"{SEARCH}.sources.{name}.rate_limited_until"] = until
        per_source[f"{SEARCH}.sources.{name}.last_error"] = limited.as_record()
        log.warning("%s: %s rate limited until %s", label, name, until.isoformat())
    for name, exc in {**outcome.failed, **outcome.rejected}.items():
        per_source[f"{SEARCH}.sources.{name}.last_error"] = exc.as_record()
        log.warning("%s: %s failed: %s: %s", label, name, type(exc).__name__, exc)

    if not outcome.results:
        return _nothing_answered(db, goal, claim, outcome, per_source, summary, now,
                                 cfg), dict(outcome.rejected)  # fmt: skip

    goal_time = query.goal_time
    docs = []
    for name, result in outcome.results.items():
        known = stored_source_ids(db, goal_id, name)
        docs += gate_documents(goal, result, goal_time, known, cfg, attempt, now)
        state = _source_state(search, name)
        per_source[f"{SEARCH}.sources.{name}.since_id"] = _newer_id(state.get("since_id"),
                                                                    result.newest_id)
        per_source[f"{SEARCH}.sources.{name}.last_query"] = result.query
        per_source[f"{SEARCH}.sources.{name}.last_error"] = None
        per_source[f"{SEARCH}.sources.{name}.rate_limited_until"] = None
    inserted = set(insert_new_videos(db, docs))
    new_candidates = [d["_id"] for d in docs if d["_id"] in inserted and d["state"] == CANDIDATE]
    new_rejected = [d["_id"] for d in docs if d["_id"] in inserted and d["state"] == REJECTED]

    accepted = accepted_count(db, goal_id)
    ended = ("enough_clips" if accepted >= cfg.enough_clips
             else "attempts" if attempt >= cfg.attempts else None)  # fmt: skip
    next_at = now + cfg.interval
    fields: dict[str, Any] = {
        **per_source,
        f"{SEARCH}.attempts": attempt,
        f"{SEARCH}.accepted": accepted,
        f"{SEARCH}.rejected": rejected_count(db, goal_id),
        f"{SEARCH}.next_at": None if ended else next_at,
        f"{SEARCH}.last_attempt_at": now,
        f"{SEARCH}.last_query": " | ".join(r.query for r in outcome.results.values()),
        f"{SEARCH}.goal_time": goal_time,
        f"{SEARCH}.truncated": any(r.truncated for r in outcome.results.values()),
    }
    if ended:
        fields[f"{SEARCH}.ended"] = ended
    current = mark_stage_done(db, claim, finished=ended is not None, fields=fields, now=now)
    by_source = {name: sum(1 for d in docs if d["_id"] in inserted and d["source"] == name)
                 for name in outcome.results}  # fmt: skip
    log.info("%s: attempt %d, %d new candidate(s), %d new rejected, %d accepted in all "
             "(new posts by source: %s)%s", label, attempt, len(new_candidates),
             len(new_rejected), accepted, by_source,
             f"; window ended ({ended})" if ended else "")  # fmt: skip
    unanswered = sorted({*outcome.rate_limited, *outcome.failed, *outcome.rejected,
                         *outcome.waiting})  # fmt: skip
    return {**summary, "status": "searched" if current else "stale",
            "new_candidates": new_candidates, "new_rejected": new_rejected,
            "new_by_source": by_source, "unanswered": unanswered,
            "accepted": accepted, "finished": ended is not None, "ended": ended,
            "next_at": None if ended else next_at.isoformat()}, dict(outcome.rejected)  # fmt: skip


def _nothing_answered(db: Database, goal: dict[str, Any], claim: Claim, outcome: _Outcome,
                      per_source: dict[str, Any], summary: dict[str, Any], now: datetime,
                      cfg: DiscoveryConfig) -> dict[str, Any]:  # fmt: skip
    """No source answered: not an attempt. Rate limits move the next attempt to the first
    reset; errors count towards ``max_errors``; rejected credentials are raised by the
    caller."""
    if outcome.failed:
        exc = next(iter(outcome.failed.values()))
        return _record_error(db, goal, claim, exc, summary, now, cfg, fields=per_source)
    if outcome.rejected:
        exc = next(iter(outcome.rejected.values()))
        mark_stage_failed(db, claim, exc, now=now,
                          fields={**per_source, f"{SEARCH}.next_at": now + cfg.interval})
        return {**summary, "status": "error", "error": exc.as_record()}
    resets = {**outcome.waiting,
              **{n: max(as_utc(e.reset_at), now) for n, e in outcome.rate_limited.items()}}
    next_at = min(resets.values())
    fields = {**per_source, f"{SEARCH}.next_at": next_at, f"{SEARCH}.rate_limited_until": next_at}
    if outcome.rate_limited:
        mark_stage_failed(db, claim, next(iter(outcome.rate_limited.values())), now=now,
                          fields=fields)
    else:  # every source still waits out an earlier limit: nothing new to report
        mark_stage_done(db, claim, finished=False, fields=fields, now=now)
    error = next(iter(outcome.rate_limited.values()), None)
    if error is None and outcome.postponed == set(resets):
        # Nothing asked: the grid shows a skip, naming why and until when.
        held = ", ".join(sorted(outcome.postponed))
        return {**summary, "status": "skipped", "next_at": next_at.isoformat(),
                "reason": f"repeat search postponed to {next_at.isoformat(timespec='seconds')}"
                          f": {held} keeps the rest of its request window for goals not "
                          "searched yet"}
    return {**summary, "status": "rate_limited", "next_at": next_at.isoformat(),
            "error": error.as_record() if error else None}


def _record_error(db: Database, goal: dict[str, Any], claim: Claim, exc: BaseException,
                  summary: dict[str, Any], now: datetime, cfg: DiscoveryConfig, *,
                  give_up: bool = False,
                  fields: Mapping[str, Any] | None = None) -> dict[str, Any]:  # fmt: skip
    """A failed attempt: recorded, retried at the next interval; too many end the window."""
    errors = int(((goal.get("processing_status") or {}).get("errors") or {}).get(claim.stage, 0))
    give_up = give_up or errors + 1 >= cfg.max_errors
    fields = {**(fields or {}), f"{SEARCH}.next_at": None if give_up else now + cfg.interval}
    if give_up:
        fields.update({"processing_status.twitter_scraped": True,
                       f"processing_status.{claim.stage}_done_at": now,
                       f"{SEARCH}.ended": "errors"})  # fmt: skip
    mark_stage_failed(db, claim, exc, fields=fields, now=now)
    log.warning("%s: search failed with %s: %s%s", summary["label"], type(exc).__name__, exc,
                "; giving up on this goal" if give_up else "")
    return {**summary, "status": "error", "finished": give_up,
            "error": {"type": type(exc).__name__, "message": str(exc)}}
