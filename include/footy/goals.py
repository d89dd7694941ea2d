"""Pure goal logic: status buckets, goal extraction, stable goal ids and poll debounce.

Nothing here does I/O. The DAG layer polls API-Football, calls :func:`goal_events` on each
fixture, then :func:`apply_poll` with the fixture's stored :class:`GoalTrack` records and
stores ``outcome.tracks`` back (``GoalTrack.to_record()`` is a flat, MongoDB-safe dict).

Goal identity (``{fixture}_{team}_{player}_{type}_{n}``): ``player`` is the player id, or a
slug of the name when the id is null; ``type`` is ``normal``/``own``/``penalty``; ``n`` counts
goals per (team, player, type) in event order, so a corrected minute keeps the id. The team is
the event's ``team.id`` as API-Football reports it (for own goals too). Goals whose scorer name
is null are *held*: they get no id (``goal_id is None``) until the name is known. A held goal
that later gets a name may shift ``n`` of that player's later goals of the same type; that is a
limit of the id scheme (it reports as a ``changed`` minute, not as a new goal).

Goals whose name never comes (lower leagues often never fill it in): :func:`name_nameless`
gives a held goal the id ``{fixture}_{team}_unnamed_{type}_{n}`` (``n`` counts nameless goals
per team and type) once it has been held for ``NAMELESS_POLLS`` distinct polls, or once the
fixture has been finished for ``NAMELESS_FINISHED_POLLS`` polls; from then on it is debounced
and processed like any goal, searched by both teams' names. If the name arrives later,
:func:`apply_poll` keeps the goal under its unnamed id (same team, type and minute) and
reports the name as a change, so the goal is renamed, never processed twice.

Goals are derived from events only, never from ``goals{home, away}``; :func:`totals_disagree`
exists for logging.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
from typing import Any, Literal

from footy.api_football import Event, Fixture
from footy.errors import PayloadError

SOURCE = "goals"

# ---- status buckets --------------------------------------------------------------------------

STAGING = "staging"
ACTIVE = "active"
COMPLETED = "completed"
VOID = "void"

STATUS_BUCKETS: dict[str, str] = {
    **dict.fromkeys(("TBD", "NS"), STAGING),
    **dict.fromkeys(("1H", "HT", "2H", "ET", "BT", "P", "SUSP", "INT", "LIVE"), ACTIVE),
    **dict.fromkeys(("FT", "AET", "PEN"), COMPLETED),
    **dict.fromkeys(("PST", "CANC", "ABD", "AWD", "WO"), VOID),
}


def bucket_for_status(short: str) -> str:
    """``staging`` / ``active`` / ``completed`` / ``void``; unknown code => PayloadError."""
    try:
        return STATUS_BUCKETS[short]
    except (KeyError, TypeError):
        raise PayloadError("fixture.status.short", f"is {short!r}, not a known status code",
                           source=SOURCE) from None


# ---- goal observations -----------------------------------------------------------------------

GoalKind = Literal["normal", "own", "penalty"]
_KINDS: dict[str, GoalKind] = {"normal goal": "normal", "own goal": "own", "penalty": "penalty"}
SHOOTOUT_MARK = "penalty shootout"


@dataclass(frozen=True)
class GoalObservation:
    """One counted goal as seen in one poll. ``goal_id`` is None while the scorer is unknown."""

    goal_id: str | None
    fixture_id: int
    team_id: int
    team_name: str | None
    player_id: int | None
    player_name: str | None
    assist_id: int | None
    assist_name: str | None
    kind: GoalKind
    detail: str
    elapsed: int
    extra: int | None
    comments: str | None
    event_index: int  # position in the fixture's events list

    @property
    def held(self) -> bool:
        return self.goal_id is None

    @property
    def minute(self) -> str:
        """Display minute: ``45+2'``."""
        return f"{self.elapsed}+{self.extra}'" if self.extra else f"{self.elapsed}'"


_TRANSLIT = str.maketrans({"Ø": "O", "ø": "o", "ß": "ss", "Æ": "AE", "æ": "ae", "Ł": "L",
                           "ł": "l", "Đ": "D", "đ": "d", "Þ": "Th", "þ": "th", "ı": "i",
                           "Œ": "OE", "œ": "oe"})


def slugify(text: str) -> str:
    """Accent-free lowercase ``a-z0-9`` words joined by ``-`` (no dots: MongoDB-safe)."""
    ascii_text = unicodedata.normalize("NFKD", text.translate(_TRANSLIT))
    ascii_text = ascii_text.encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def is_shootout(event: Event) -> bool:
    """A penalty-shootout kick (``comments`` contains "Penalty Shootout")."""
    return bool(event.comments) and SHOOTOUT_MARK in event.comments.lower()  # type: ignore[union-attr]


def goal_kind(event: Event, where: str = "event") -> GoalKind | None:
    """Normalised goal type, or None when the event is not a counted goal.

    Not counted: non-goal events, "Missed Penalty", shootout kicks. A goal event with an
    unknown detail raises PayloadError (no silent default).
    """
    if event.type.strip().lower() != "goal" or is_shootout(event):
        return None
    detail = (event.detail or "").strip().lower()
    if detail == "missed penalty":
        return None
    kind = _KINDS.get(detail)
    if kind is None:
        raise PayloadError(f"{where}.detail", f"is {event.detail!r}, not a known goal detail",
                           source=SOURCE)
    return kind


def goal_events(fixture: Fixture) -> list[GoalObservation]:
    """Counted goals of a fixture in event order, with stable ids (None while held).

    Raises PayloadError when the fixture carries no events list (a listing payload).
    """
    if fixture.events is None:
        raise PayloadError(f"fixture[{fixture.id}].events", "is missing (fetch by ids)",
                           source=SOURCE)
    counters: dict[tuple[int, str, str], int] = {}
    out: list[GoalObservation] = []
    for i, ev in enumerate(fixture.events):
        kind = goal_kind(ev, f"fixture[{fixture.id}].events[{i}]")
        if kind is None:
            continue
        goal_id: str | None = None
        player_key = _player_key(ev)
        if player_key is not None:
            key = (ev.team_id, player_key, kind)
            counters[key] = counters.get(key, 0) + 1
            goal_id = f"{fixture.id}_{ev.team_id}_{player_key}_{kind}_{counters[key]}"
        out.append(GoalObservation(
            goal_id=goal_id, fixture_id=fixture.id, team_id=ev.team_id, team_name=ev.team_name,
            player_id=ev.player_id, player_name=ev.player_name, assist_id=ev.assist_id,
            assist_name=ev.assist_name, kind=kind, detail=ev.detail or "", elapsed=ev.elapsed,
            extra=ev.extra, comments=ev.comments, event_index=i,
        ))
    return out


def _player_key(ev: Event) -> str | None:
    """Player id, else the name's slug; None (held) when the scorer name is unknown."""
    if not ev.player_name or not ev.player_name.strip():
        return None
    if ev.player_id is not None:
        return str(ev.player_id)
    slug = slugify(ev.player_name)
    return slug or None


# ---- goals without a scorer name -------------------------------------------------------------

UNNAMED = "unnamed"
NAMELESS_POLLS = 15  # polls a goal stays held for a name before it is processed without one
NAMELESS_FINISHED_POLLS = 3  # ...or polls after the final whistle, whichever comes first


@dataclass(frozen=True)
class NamelessOutcome:
    """``observations`` with the nameless goals that are due given their unnamed id;
    ``held`` maps the goals still held (``{team}_{type}_{n}``) to the polls they were held."""

    observations: list[GoalObservation]
    held: dict[str, int]


def name_nameless(
    observed: list[GoalObservation],
    held_polls: dict[str, int],
    tracked: set[str] | frozenset[str],
    *,
    finished_polls: int,
    repeat: bool = False,
    polls: int = NAMELESS_POLLS,
    finished: int = NAMELESS_FINISHED_POLLS,
) -> NamelessOutcome:
    """Decide which held goals stop waiting for a name (pure).

    ``held_polls`` is the previous poll's ``held``; ``tracked`` the goal ids already in the
    debounce (a goal once given its unnamed id keeps it); ``repeat`` marks a poll id already
    counted, which does not count again.
    """
    counters: dict[tuple[int, str], int] = {}
    out: list[GoalObservation] = []
    held: dict[str, int] = {}
    for obs in observed:
        if obs.goal_id is not None:
            out.append(obs)
            continue
        counters[(obs.team_id, obs.kind)] = n = counters.get((obs.team_id, obs.kind), 0) + 1
        key = f"{obs.team_id}_{obs.kind}_{n}"
        unnamed_id = f"{obs.fixture_id}_{obs.team_id}_{UNNAMED}_{obs.kind}_{n}"
        count = held_polls.get(key, 0) + (0 if repeat else 1)
        if unnamed_id in tracked or count >= polls or finished_polls >= finished:
            out.append(replace(obs, goal_id=unnamed_id))
        else:
            out.append(obs)
            held[key] = count
    return NamelessOutcome(out, held)


def is_unnamed(goal_id: str) -> bool:
    return f"_{UNNAMED}_" in goal_id


def _unnamed_alias(
    obs: GoalObservation, tracks: dict[str, GoalTrack], taken: set[str], tolerance: int = 3
) -> str | None:
    """The unnamed goal a newly named observation is (same team and type, the nearest
    minute within ``tolerance``), when that goal is not observed itself this poll."""
    near = [
        (abs(t.elapsed - obs.elapsed), gid)
        for gid, t in tracks.items()
        if is_unnamed(gid) and gid not in taken and t.team_id == obs.team_id
        and t.kind == obs.kind and abs(t.elapsed - obs.elapsed) <= tolerance
    ]  # fmt: skip
    return min(near)[1] if near else None


# ---- totals vs events ------------------------------------------------------------------------


@dataclass(frozen=True)
class TotalsCheck:
    totals_home: int | None
    totals_away: int | None
    events_home: int  # goals credited to the event's team
    events_away: int
    own_goals: int
    agree: bool


def totals_check(fixture: Fixture) -> TotalsCheck:
    """Compare ``goals{home,away}`` with counted goal events (held ones included).

    Agreement is accepted under either own-goal convention (event team credited, or the
    opponent credited), since the provider's convention is not documented. Null totals agree
    only with zero events. Shootout kicks never count.
    """
    home = away = own_home = own_away = 0
    for ev in fixture.events or ():
        kind = goal_kind(ev)
        if kind is None:
            continue
        is_home = ev.team_id == fixture.home_team_id
        if is_home:
            home += 1
            own_home += kind == "own"
        else:
            away += 1
            own_away += kind == "own"
    th = fixture.goals_home if fixture.goals_home is not None else 0
    ta = fixture.goals_away if fixture.goals_away is not None else 0
    as_credited = (th, ta) == (home, away)
    swapped = (th, ta) == (home - own_home + own_away, away - own_away + own_home)
    return TotalsCheck(fixture.goals_home, fixture.goals_away, home, away,
                       own_home + own_away, as_credited or swapped)


def totals_disagree(fixture: Fixture) -> bool:
    """True when the score totals do not match the goal events (log it, never act on it)."""
    return not totals_check(fixture).agree


# ---- debounce --------------------------------------------------------------------------------

CONFIRM_POLLS = 3
WITHDRAW_POLLS = 3

PENDING = "pending"
CONFIRMED = "confirmed"
WITHDRAWN = "withdrawn"

_OBS_FIELDS = ("team_name", "player_id", "player_name", "assist_id", "assist_name", "detail",
               "elapsed", "extra")


@dataclass(frozen=True)
class GoalTrack:
    """Debounce state of one goal id. Flat: scalar fields only, MongoDB-safe keys.

    ``state`` is pending -> confirmed -> withdrawn (-> pending again on reappearance).
    ``seen_polls`` counts distinct polls the goal was present in since it (re)entered pending;
    ``missed_polls`` counts distinct polls it was absent from since last seen.
    """

    goal_id: str
    fixture_id: int
    team_id: int
    team_name: str | None
    player_id: int | None
    player_name: str | None
    assist_id: int | None
    assist_name: str | None
    kind: str
    detail: str
    elapsed: int
    extra: int | None
    state: str = PENDING
    seen_polls: int = 0
    missed_polls: int = 0
    first_seen_poll: str | None = None
    # The fixture's previous poll when this one first showed the goal: it happened after
    # that (give or take the feed's own lag) and before this one.
    first_seen_after: datetime | None = None
    last_seen_poll: str | None = None
    last_poll: str | None = None
    confirmed_poll: str | None = None
    withdrawn_poll: str | None = None
    withdrawn_reason: str | None = None
    ever_confirmed: bool = False
    times_withdrawn: int = 0

    @classmethod
    def from_observation(cls, obs: GoalObservation) -> GoalTrack:
        if obs.goal_id is None:
            raise ValueError("a held goal (scorer unknown) cannot be tracked")
        return cls(goal_id=obs.goal_id, fixture_id=obs.fixture_id, team_id=obs.team_id,
                   kind=obs.kind, **{f: getattr(obs, f) for f in _OBS_FIELDS})

    def to_record(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> GoalTrack:
        """Rebuild from a stored dict, ignoring extra keys (``_id`` etc.)."""
        names = {f.name for f in fields(cls)}
        missing = [n for n in ("goal_id", "fixture_id", "team_id", "kind", "detail", "elapsed")
                   if n not in record]
        if missing:
            raise PayloadError(missing[0], "is missing", source="goal track record")
        return cls(**{k: v for k, v in record.items() if k in names})


@dataclass(frozen=True)
class GoalChange:
    goal_id: str
    state: str
    changes: dict[str, tuple[Any, Any]]  # field -> (old, new)


@dataclass
class PollOutcome:
    """Result of one poll for one fixture. ``tracks`` is the full new state to store."""

    tracks: dict[str, GoalTrack]
    newly_confirmed: list[str] = field(default_factory=list)
    newly_withdrawn: list[str] = field(default_factory=list)
    newly_seen: list[str] = field(default_factory=list)
    reappeared: list[str] = field(default_factory=list)
    changed: list[GoalChange] = field(default_factory=list)
    held: list[GoalObservation] = field(default_factory=list)
    duplicate_poll: bool = False

    @property
    def has_goal_changes(self) -> bool:
        """Anything downstream must act on: confirmations, withdrawals, confirmed-goal edits."""
        return bool(self.newly_confirmed or self.newly_withdrawn
                    or any(c.state == CONFIRMED for c in self.changed))

    @property
    def pending(self) -> list[str]:
        return [g for g, t in self.tracks.items() if t.state == PENDING]

    @property
    def confirmed(self) -> list[str]:
        return [g for g, t in self.tracks.items() if t.state == CONFIRMED]

    @property
    def settled(self) -> bool:
        """No goal waiting on debounce and no held goal."""
        return not self.pending and not self.held


def apply_poll(
    known: dict[str, GoalTrack],
    observed: list[GoalObservation],
    poll_id: str,
    *,
    confirm_polls: int = CONFIRM_POLLS,
    withdraw_polls: int = WITHDRAW_POLLS,
    previous_poll_at: datetime | None = None,
) -> PollOutcome:
    """Advance the debounce with one poll's observations (pure; ``known`` is not mutated).

    * present goal: ``seen_polls += 1``, ``missed_polls = 0``; pending with
      ``seen_polls >= confirm_polls`` => confirmed; withdrawn => pending again (seen 1).
    * absent pending/confirmed goal: ``missed_polls += 1``; at ``withdraw_polls`` => withdrawn.
    * a poll id already applied to a track counts once (the repeat changes nothing).
    * held observations (scorer unknown) are returned in ``held`` and not tracked.
    * a named goal that is new but matches an unnamed goal absent from this poll (same team
      and type, minute within 3) is that goal: it keeps the unnamed id, the name is a change.
    * steady goals (confirmed and present unchanged, withdrawn and absent) are left exactly as
      they were, so a poll in which nothing happened changes no track and the fixture
      needs no write.
    """
    tracks = dict(known)
    out = PollOutcome(tracks=tracks)
    present: dict[str, GoalObservation] = {}
    for obs in observed:
        if obs.goal_id is None:
            out.held.append(obs)
        else:
            present[obs.goal_id] = obs
    for goal_id, obs in list(present.items()):
        if goal_id not in tracks and not is_unnamed(goal_id):
            alias = _unnamed_alias(obs, tracks, set(present))
            if alias is not None:  # the name of a goal processed without one arrived
                del present[goal_id]
                present[alias] = replace(obs, goal_id=alias)
    repeats = 0

    for goal_id, obs in present.items():
        track = tracks.get(goal_id)
        if track is None:
            track = GoalTrack.from_observation(obs)
            track = replace(track, first_seen_poll=poll_id,
                            first_seen_after=previous_poll_at)
            out.newly_seen.append(goal_id)
        elif track.last_poll == poll_id:
            repeats += 1
            continue
        else:
            diff = {f: (getattr(track, f), getattr(obs, f)) for f in _OBS_FIELDS
                    if getattr(track, f) != getattr(obs, f)}
            if diff:
                out.changed.append(GoalChange(goal_id, track.state, diff))
                track = replace(track, **{f: new for f, (_, new) in diff.items()})
        if track.state == CONFIRMED and track.missed_polls == 0 and goal_id not in {
            c.goal_id for c in out.changed
        }:
            continue  # steady: confirmed and unchanged, nothing to store (see below)
        if track.state == WITHDRAWN:
            track = replace(track, state=PENDING, seen_polls=0)
            out.reappeared.append(goal_id)
        track = replace(track, seen_polls=track.seen_polls + 1, missed_polls=0,
                        last_seen_poll=poll_id, last_poll=poll_id)
        if track.state == PENDING and track.seen_polls >= confirm_polls:
            track = replace(track, state=CONFIRMED, confirmed_poll=poll_id, ever_confirmed=True,
                            withdrawn_reason=None)
            out.newly_confirmed.append(goal_id)
        tracks[goal_id] = track

    for goal_id, track in known.items():
        if goal_id in present:
            continue
        if track.last_poll == poll_id:
            repeats += 1
            continue
        if track.state == WITHDRAWN:
            continue  # steady: stays withdrawn
        missed = track.missed_polls + 1
        track = replace(track, missed_polls=missed, last_poll=poll_id)
        if missed >= withdraw_polls:
            reason = (f"absent from {missed} distinct polls since poll {track.last_seen_poll!r}"
                      f" (VAR-disallowed or removed)")
            track = replace(track, state=WITHDRAWN, withdrawn_poll=poll_id,
                            withdrawn_reason=reason, times_withdrawn=track.times_withdrawn + 1)
            out.newly_withdrawn.append(goal_id)
        tracks[goal_id] = track

    out.duplicate_poll = bool(known) and repeats == len(tracks) and not out.newly_seen
    return out
