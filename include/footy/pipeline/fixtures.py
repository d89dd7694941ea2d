"""Fixture lifecycle: ingest a day's fixtures, advance them between buckets, poll live ones."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.database import Database

from footy.api_budget import (
    DEFAULT_DAILY_BUDGET,
    IDS_PER_REQUEST,
    RESERVE,
    PollCost,
    PollPlan,
    last_match_end,
    plan_polls,
    poll_cost,
)
from footy.api_football import ApiFootballClient, FixtureBatch, parse_event
from footy.errors import PayloadError, error_record
from footy.goals import (
    NAMELESS_POLLS,
    GoalTrack,
    apply_poll,
    bucket_for_status,
    goal_events,
    name_nameless,
    totals_disagree,
)
from footy.store.api_usage import record_requests, usage_today
from footy.store.db import FIXTURES_ACTIVE, FIXTURES_COMPLETED, FIXTURES_STAGING, as_utc
from footy.store.fixtures import (
    fixture_fields,
    ingest_fixture,
    mark_staging_refreshed,
    move_fixture,
    record_polls,
    refresh_staging_fixture,
    repair_buckets,
    staging_due_for_refresh,
)
from footy.store.goals import fixture_goals_done

log = logging.getLogger(__name__)

FINISHED = {"FT", "AET", "PEN"}
MAX_ACTIVE_AGE = timedelta(hours=4)  # kick-off to the latest a fixture may still be active


@dataclass
class Tracking:
    """Which fixtures a day's ingest asks for (an Airflow Variable overrides the default)."""

    league_ids: list[int] = field(default_factory=lambda: [39])  # Premier League
    team_ids: list[int] = field(default_factory=list)
    season: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Tracking:
        unknown = set(data) - {"league_ids", "team_ids", "season"}
        if unknown:
            raise PayloadError(sorted(unknown)[0], "is not a tracking setting", source="tracking")
        for key in ("league_ids", "team_ids"):
            value = data.get(key, [])
            if not isinstance(value, list) or not all(
                isinstance(v, int) and not isinstance(v, bool) for v in value
            ):
                raise PayloadError(key, "must be a list of integer ids", source="tracking")
        season = data.get("season")
        if season is not None and not isinstance(season, int):
            raise PayloadError("season", "must be an integer year", source="tracking")
        return cls(data.get("league_ids", [39]), data.get("team_ids", []), season)


def season_for(day: str) -> int:
    """European season of a date: August onwards belongs to that year's season."""
    d = datetime.fromisoformat(day)
    return d.year if d.month >= 7 else d.year - 1


def ingest(
    db: Database, client: ApiFootballClient, day: str, tracking: Tracking, now: datetime
) -> dict[str, Any]:
    calls_before = client.calls
    try:
        batch = client.fixtures_by_date(
            day,
            league_ids=tracking.league_ids,
            team_ids=tracking.team_ids,
            season=tracking.season or season_for(day),
        )
    finally:
        record_requests(db, now, client.calls - calls_before)
    counts = {"inserted": 0, "updated": 0, "unchanged": 0}
    errors: list[dict[str, Any]] = []
    for fixture in batch.fixtures:
        try:
            counts[ingest_fixture(db, fixture, bucket_for_status(fixture.status_short), now)] += 1
        except PayloadError as exc:
            errors.append({"fixture": fixture.id, **error_record(exc)})
    errors += [{"fixture": key, **error_record(exc)} for key, exc in batch.errors]
    for err in errors:
        log.error("fixture %s skipped: %s: %s", err["fixture"], err["type"], err["message"])
    return {"date": day, **counts, "errors": errors}


STAGING_REFRESH = timedelta(minutes=15)
STAGING_SHARE = 0.1  # of the day's requests left, at most, per staging refresh


def refresh_staging(
    db: Database, client: ApiFootballClient, now: datetime, *, budget: int,
    every: timedelta = STAGING_REFRESH,
) -> dict[str, Any]:  # fmt: skip
    """Ask the API again about listed fixtures not refreshed for ``every``: a kick-off moved
    after ingest, a postponement, a cancellation. ``ids=`` batches of 20, soonest kick-off
    first, spending at most ``STAGING_SHARE`` of the day's requests left (the live polls
    come first); the rest wait for the next run. ``advance`` then acts on what changed."""
    left = budget - int(usage_today(db, now).get("used") or 0) - RESERVE
    requests = int(max(0, left) * STAGING_SHARE)
    due = staging_due_for_refresh(db, now - every, limit=requests * IDS_PER_REQUEST) \
        if requests else []
    summary: dict[str, Any] = {"due": len(due), "requests": 0, "changed": {}, "errors": []}
    if not due:
        return summary
    calls_before = client.calls
    try:
        batch = client.fixtures_by_ids(due)
    finally:
        summary["requests"] = client.calls - calls_before
        record_requests(db, now, summary["requests"])
    seen = set()
    for fixture in batch.fixtures:
        seen.add(fixture.id)
        try:
            changed = refresh_staging_fixture(db, fixture, now)
        except PayloadError as exc:
            summary["errors"].append({"fixture": fixture.id, **error_record(exc)})
            continue
        if changed:
            summary["changed"][fixture.id] = {k: [str(v) for v in pair]
                                              for k, pair in changed.items()}  # fmt: skip
    summary["errors"] += [{"fixture": key, **error_record(exc)} for key, exc in batch.errors]
    missing = [f for f in due if f not in seen]
    if missing:  # not returned (or malformed): asked again at the next refresh, not every run
        mark_staging_refreshed(db, missing, now)
    for err in summary["errors"]:
        log.error("fixture %s not refreshed: %s: %s", err["fixture"], err["type"], err["message"])
    return summary


def advance(
    db: Database,
    now: datetime,
    *,
    lead: timedelta,
    settle_polls: int = 3,
    max_age: timedelta = MAX_ACTIVE_AGE,
) -> dict[str, list[int]]:
    """Staging -> active before kick-off; active -> completed once over and fully processed,
    or once ``max_age`` after kick-off whatever it is waiting for (outcome ``expired``, with
    the reason): a scorer's name that never arrives must not keep a fixture polled forever."""
    moved: dict[str, list[int]] = {
        "repaired": repair_buckets(db),
        "activated": [],
        "completed": [],
        "voided": [],
        "expired": [],
    }
    for doc in db[FIXTURES_STAGING].find({}, {"status": 1, "kickoff": 1}):
        bucket = bucket_for_status(doc["status"])
        if bucket == "void":
            if _complete(db, doc["_id"], FIXTURES_STAGING, "void", now):
                moved["voided"].append(doc["_id"])
        elif bucket != "staging" or as_utc(doc["kickoff"]) - lead <= now:
            if move_fixture(
                db, doc["_id"], FIXTURES_STAGING, FIXTURES_ACTIVE, {"activated_at": now}
            ):
                moved["activated"].append(doc["_id"])

    for doc in db[FIXTURES_ACTIVE].find({}, {"goal_events": 0}):
        status = doc["status"]
        if as_utc(doc["kickoff"]) + max_age <= now:
            reason = _expiry_reason(doc, max_age)
            if _complete(db, doc["_id"], FIXTURES_ACTIVE, "expired", now, reason):
                log.warning("fixture %s expired: %s", doc["_id"], reason)
                moved["expired"].append(doc["_id"])
        elif bucket_for_status(status) == "void":
            # Postponed/abandoned/...: out of the active set, whatever its goals are doing.
            if _complete(db, doc["_id"], FIXTURES_ACTIVE, "void", now):
                moved["voided"].append(doc["_id"])
        elif (
            status in FINISHED
            and _settled(doc, settle_polls)
            and fixture_goals_done(db, doc["_id"])
        ):
            if _complete(db, doc["_id"], FIXTURES_ACTIVE, "finished", now):
                moved["completed"].append(doc["_id"])
    return moved


def _complete(
    db: Database, fixture_id: int, source: str, outcome: str, now: datetime, reason: str = ""
) -> bool:
    fields: dict[str, Any] = {"outcome": outcome, "completed_at": now}
    if reason:
        fields["completed_reason"] = reason
    return move_fixture(db, fixture_id, source, FIXTURES_COMPLETED, fields)


def _expiry_reason(doc: dict[str, Any], max_age: timedelta) -> str:
    waiting = []
    if doc.get("held_goals"):
        waiting.append(f"{len(doc['held_goals'])} goal(s) without a scorer name")
    if any(t.get("state") == "pending" for t in doc.get("debounce", {}).values()):
        waiting.append("goals not yet confirmed")
    if doc.get("status") not in FINISHED:
        waiting.append(f"status {doc.get('status')}")
    detail = "; ".join(waiting) or "goals still processing"
    return f"still active {max_age} after kick-off ({detail})"


def _settled(doc: dict[str, Any], settle_polls: int) -> bool:
    """Finished long enough for late corrections to land, and no goal left undecided."""
    if doc.get("poll", {}).get("polls_since_finished", 0) < settle_polls:
        return False
    if doc.get("goal_changes", {}).get("pending"):
        return False
    if doc.get("held_goals"):
        return False
    return not any(t.get("state") == "pending" for t in doc.get("debounce", {}).values())


MATCH_CLOCK = ("elapsed", "extra")  # fixture fields that change every minute of play
FINISHED_POLLS_CAP = 20  # polls_since_finished stops counting here (settling needs fewer)


def monitor(
    db: Database,
    client: ApiFootballClient,
    poll_id: str,
    now: datetime,
    *,
    budget: int = DEFAULT_DAILY_BUDGET,
    base_interval: timedelta = timedelta(seconds=60),
) -> dict[str, Any]:
    """One batched poll of every active fixture. One fixture's bad data never fails the rest.

    The poll costs the fewest requests (``ids=`` batches or ``live=all``); the requests are
    counted for the day, and the next poll is delayed when polling every ``base_interval``
    would spend the day's ``budget`` before the last match ends (``footy.api_budget``).

    Every active fixture is read in one query; only fixtures whose stored state the poll
    changes are written, in one unordered bulk write (each update conditioned on the poll
    sequence it was computed from). A poll in which nothing happened writes nothing.
    An API-level failure (auth, rate limit, timeout) raises before anything is written.
    """
    active = {d["_id"]: d for d in db[FIXTURES_ACTIVE].find({})}
    if not active:
        return {"polled": 0, "changed": [], "errors": [], "writes": 0, "requests": 0}
    cost = poll_cost([d.get("status", "") for d in active.values()])
    calls_before = client.calls
    try:
        batch = _fetch(client, sorted(active), cost)
    except BaseException:
        record_requests(db, now, client.calls - calls_before)  # failed calls count too
        raise
    spent = client.calls - calls_before
    plan = _plan_next_poll(db, client, now, cost, budget, base_interval, spent)
    errors = [{"fixture": key, **error_record(exc)} for key, exc in batch.errors]
    updates: dict[int, tuple[int, dict[str, Any], bool]] = {}
    for fixture in batch.fixtures:
        doc = active.get(fixture.id)
        if doc is None:
            continue
        try:
            planned = _plan_fixture_poll(doc, fixture, poll_id, now)
        except Exception as exc:  # noqa: BLE001 - isolate one fixture's failure from the poll
            errors.append({"fixture": fixture.id, **error_record(exc)})
            continue
        if planned is not None:
            updates[fixture.id] = planned
    stored, write_errors = record_polls(db, updates, now=now)
    errors += write_errors
    changed = sorted(f for f in stored if updates[f][2])
    lost = sorted(set(updates) - set(stored) - {e["fixture"] for e in write_errors})
    missing = sorted(set(active) - {f.id for f in batch.fixtures} - {e["fixture"] for e in errors})
    for err in errors:
        log.error("fixture %s not updated: %s: %s", err["fixture"], err["type"], err["message"])
    if lost:
        log.warning("fixtures %s: a concurrent poll stored first; this poll is dropped", lost)
    if missing:
        log.warning("fixtures absent from the API response: %s", missing)
    log.info(
        "poll %s: %d fixtures, %d written, %d unchanged",
        poll_id,
        len(batch.fixtures),
        len(stored),
        len(batch.fixtures) - len(updates) - len(errors),
    )
    return {
        "polled": len(batch.fixtures),
        "changed": changed,
        "errors": errors,
        "missing": missing,
        "writes": len(stored),
        "requests": spent,
        "live_all": cost.live_all,
        "next_poll_in_s": plan.interval.total_seconds(),
        "budget": plan.reason,
    }


def _fetch(client: ApiFootballClient, ids: list[int], cost: PollCost) -> FixtureBatch:
    """The fixtures ``ids`` by the cheaper way (see ``footy.api_budget.poll_cost``)."""
    if not cost.live_all:
        return client.fixtures_by_ids(ids)
    live = client.live_fixtures()
    wanted = set(ids)
    fixtures = [f for f in live.fixtures if f.id in wanted]
    errors = [(key, exc) for key, exc in live.errors if key in wanted]
    rest = sorted(wanted - {f.id for f in fixtures} - {key for key, _ in errors})
    if rest:  # not in play: not started yet, or finished and settling
        more = client.fixtures_by_ids(rest)
        fixtures, errors = fixtures + more.fixtures, errors + more.errors
    return FixtureBatch(fixtures, errors)


def _plan_next_poll(
    db: Database,
    client: ApiFootballClient,
    now: datetime,
    cost: PollCost,
    budget: int,
    base_interval: timedelta,
    spent: int,
) -> PollPlan:
    """Spread the day's budget over the rest of the match day; count this poll's ``spent``
    requests and store when to poll next, in one update."""
    today_end = datetime.combine(now.date() + timedelta(days=1), datetime.min.time(), UTC)
    kickoffs = [
        as_utc(d["kickoff"])
        for name in (FIXTURES_ACTIVE, FIXTURES_STAGING)
        for d in db[name].find({"kickoff": {"$lt": today_end}}, {"kickoff": 1})
    ]
    remaining = client.rate_limit.get("day_remaining")
    plan = plan_polls(
        now=now,
        base_interval=base_interval,
        budget=budget,
        used=usage_today(db, now).get("used", 0) + spent,
        api_remaining=None if remaining is None else int(remaining),
        cost=cost.requests,
        last_match_ends=last_match_end(kickoffs, now),
    )
    slowed = plan.interval > base_interval
    record_requests(db, now, spent, {
        "budget": budget, "left": plan.requests_left, "reason": plan.reason,
        "interval_s": plan.interval.total_seconds(),
        "next_poll_at": now + plan.interval if slowed else None,
    })  # fmt: skip
    if slowed:
        log.warning("API-Football budget: %s", plan.reason)
    return plan


def _plan_fixture_poll(
    doc: dict[str, Any], fixture: Any, poll_id: str, now: datetime
) -> tuple[int, dict[str, Any], bool] | None:
    """(poll sequence read, fields to set, goal changes?) for one fixture, or None when the
    poll changes nothing stored. Raises PayloadError before anything is written."""
    known = {gid: GoalTrack.from_record(rec) for gid, rec in doc.get("debounce", {}).items()}
    poll = doc.get("poll", {})
    finished_polls = poll.get("polls_since_finished", 0)
    repeat = poll.get("last_id") == poll_id
    if fixture.status_short not in FINISHED:
        finished_polls = 0
    elif not repeat:
        finished_polls = min(finished_polls + 1, FINISHED_POLLS_CAP)
    held_before = {h["key"]: h.get("polls", 0) for h in doc.get("held_goals", []) if "key" in h}
    nameless = name_nameless(goal_events(fixture), held_before, set(known),
                             finished_polls=finished_polls, repeat=repeat)  # fmt: skip
    # a poll that is not written leaves poll.at at the last written one: an earlier bound
    # for a new goal's first_seen_after, never a later one
    outcome = apply_poll(
        known, nameless.observations, poll_id, previous_poll_at=poll.get("at") or now
    )
    if totals_disagree(fixture):
        log.info("fixture %s: score totals disagree with goal events (lagging totals)", fixture.id)
    fields = {
        **fixture_fields(fixture),
        # Goal events only: cards and substitutions change nothing here, and storing them
        # would rewrite a live fixture's document on every booking.
        "goal_events": [_event_record(e) for e in fixture.events or ()
                        if e.type.strip().lower() == "goal"],  # fmt: skip
        "debounce": {gid: t.to_record() for gid, t in outcome.tracks.items()},
        "held_goals": [
            {
                "key": key,
                "polls": polls,
                "team_id": h.team_id,
                "team_name": h.team_name,
                "minute": h.minute,
                "kind": h.kind,
                "reason": f"scorer not known yet ({polls} of {NAMELESS_POLLS} polls)",
            }
            for h, (key, polls) in zip(outcome.held, nameless.held.items(), strict=True)
        ],
        "poll.polls_since_finished": finished_polls,
    }
    if outcome.newly_confirmed or outcome.newly_withdrawn:
        log.info(
            "fixture %s: confirmed %s, withdrawn %s",
            fixture.id,
            outcome.newly_confirmed,
            outcome.newly_withdrawn,
        )
    if not outcome.has_goal_changes and _unchanged(doc, fields):
        return None
    fields["poll.last_id"] = poll_id
    return poll.get("seq", 0), fields, outcome.has_goal_changes


def _unchanged(doc: dict[str, Any], fields: dict[str, Any]) -> bool:
    """Would setting ``fields`` leave the stored document as it is, but for the minute?

    The clock of a live match (``fixture.elapsed``/``extra``) moves on every poll; on its own
    it is not worth a write (nothing reads it between changes), so a live fixture is written
    when its status, score, events or goal tracking change."""
    for key, value in fields.items():
        stored: Any = doc
        for part in key.split("."):
            stored = stored.get(part) if isinstance(stored, dict) else None
        if key == "fixture" and isinstance(stored, dict) and isinstance(value, dict):
            stored = {k: v for k, v in stored.items() if k not in MATCH_CLOCK}
            value = {k: v for k, v in value.items() if k not in MATCH_CLOCK}
        if _canonical(stored) != _canonical(value):
            return False
    return True


def _canonical(value: Any) -> Any:
    """A value as it reads back from MongoDB: naive UTC datetimes, lists for tuples."""
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def _event_record(event: Any) -> dict[str, Any]:
    from dataclasses import asdict

    return asdict(event)


def manual_events_fixture(fixture_doc: dict[str, Any], goal_events_conf: list[dict[str, Any]]):
    """A stored fixture with the operator's ``goal_events`` (API event shape) as its events."""
    from footy.api_football import Event, Fixture

    events: tuple[Event, ...] = tuple(
        parse_event(ev, f"goal_events[{i}]") for i, ev in enumerate(goal_events_conf)
    )
    return Fixture(**fixture_doc["fixture"], events=events)
