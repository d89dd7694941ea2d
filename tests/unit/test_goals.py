"""Pure goal logic against realistic API-Football payloads."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta

import pytest

from footy.api_football import parse_fixture, parse_fixtures
from footy.errors import PayloadError
from footy.goals import (
    CONFIRMED,
    PENDING,
    WITHDRAWN,
    GoalObservation,
    GoalTrack,
    apply_poll,
    bucket_for_status,
    goal_events,
    name_nameless,
    slugify,
    totals_check,
    totals_disagree,
)

HOME = {"id": 50, "name": "Manchester City", "logo": "https://x/50.png"}
AWAY = {"id": 42, "name": "Arsenal", "logo": "https://x/42.png"}


def ev(team, player_id, player_name, *, elapsed, extra=None, type_="Goal",
       detail="Normal Goal", comments=None, assist=(None, None)):
    return {
        "time": {"elapsed": elapsed, "extra": extra},
        "team": dict(team),
        "player": {"id": player_id, "name": player_name},
        "assist": {"id": assist[0], "name": assist[1]},
        "type": type_, "detail": detail, "comments": comments,
    }


def item(events, *, fid=1035037, status="2H", elapsed=67, goals=(None, None)):
    return {
        "fixture": {
            "id": fid, "referee": "M. Oliver", "timezone": "UTC",
            "date": "2026-03-14T15:00:00+00:00", "timestamp": 1773500400,
            "periods": {"first": 1773500400, "second": None},
            "venue": {"id": 555, "name": "Etihad Stadium", "city": "Manchester"},
            "status": {"long": "Second Half", "short": status, "elapsed": elapsed,
                       "extra": None},
        },
        "league": {"id": 39, "name": "Premier League", "country": "England",
                   "season": 2025, "round": "Regular Season - 30"},
        "teams": {"home": {**HOME, "winner": None}, "away": {**AWAY, "winner": None}},
        "goals": {"home": goals[0], "away": goals[1]},
        "score": {"halftime": {"home": 1, "away": 0}},
        "events": events,
    }


def fixture(events, **kw):
    return parse_fixture(item(events, **kw))


# ---- status buckets ------------------------------------------------------------------------


@pytest.mark.parametrize("code,bucket", [
    ("TBD", "staging"), ("NS", "staging"),
    *[(c, "active") for c in ("1H", "HT", "2H", "ET", "BT", "P", "SUSP", "INT", "LIVE")],
    ("FT", "completed"), ("AET", "completed"), ("PEN", "completed"),
    *[(c, "void") for c in ("PST", "CANC", "ABD", "AWD", "WO")],
])
def test_bucket_for_status(code, bucket):
    assert bucket_for_status(code) == bucket


@pytest.mark.parametrize("code", ["XX", "", None, "ft"])
def test_unknown_status_is_a_payload_error(code):
    with pytest.raises(PayloadError) as err:
        bucket_for_status(code)
    assert err.value.field == "fixture.status.short"


# ---- parsing (the validation the goal logic relies on) -------------------------------------


def test_parse_keeps_null_player_fields_and_totals():
    fx = fixture([ev(HOME, None, None, elapsed=12)], goals=(1, 0))
    assert fx.id == 1035037 and fx.status_short == "2H" and fx.elapsed == 67
    assert fx.home_team_id == 50 and fx.away_team_name == "Arsenal"
    assert fx.goals_home == 1 and fx.goals_away == 0
    assert fx.events[0].player_id is None and fx.events[0].player_name is None
    assert fx.kickoff.isoformat() == "2026-03-14T15:00:00+00:00"


@pytest.mark.parametrize("mutate,field", [
    (lambda d: d["fixture"]["status"].pop("short"), "response[3].fixture.status.short"),
    (lambda d: d["fixture"]["status"].update(short=None), "response[3].fixture.status.short"),
    (lambda d: d["fixture"].pop("status"), "response[3].fixture.status"),
    (lambda d: d["fixture"].pop("id"), "response[3].fixture.id"),
    (lambda d: d["fixture"].update(id="1035037"), "response[3].fixture.id"),
    (lambda d: d["fixture"].update(id=True), "response[3].fixture.id"),
    (lambda d: d["fixture"].update(date="14/03/2026"), "response[3].fixture.date"),
    (lambda d: d["teams"]["away"].pop("id"), "response[3].teams.away.id"),
    (lambda d: d["events"][0].pop("type"), "response[3].events[0].type"),
    (lambda d: d["events"][0].pop("team"), "response[3].events[0].team"),
    (lambda d: d["events"][0]["team"].update(id=None), "response[3].events[0].team.id"),
    (lambda d: d["events"][0]["player"].update(id=1.5), "response[3].events[0].player.id"),
    (lambda d: d.update(events={"0": {}}), "response[3].events"),
])
def test_parse_names_the_bad_field(mutate, field):
    raw = item([ev(HOME, 1100, "E. Haaland", elapsed=12)])
    mutate(raw)
    with pytest.raises(PayloadError) as err:
        parse_fixture(raw, "response[3]")
    assert err.value.field == field


def test_one_bad_fixture_is_reported_on_its_own():
    good = item([ev(HOME, 1100, "E. Haaland", elapsed=12)], fid=1)
    bad = item([], fid=2)
    del bad["fixture"]["status"]["short"]
    nameless = item([], fid=3)
    nameless["fixture"]["id"] = "three"
    batch = parse_fixtures([good, bad, nameless])
    assert [f.id for f in batch.fixtures] == [1]
    assert [key for key, _ in batch.errors] == [2, "response[2]"]
    assert batch.errors[0][1].field == "response[1].fixture.status.short"


# ---- goal events ---------------------------------------------------------------------------


def test_goal_events_kinds_exclusions_and_stoppage_time():
    events = [
        ev(HOME, 1100, "E. Haaland", elapsed=12, assist=(631, "P. Foden")),
        ev(AWAY, 1460, "B. Saka", elapsed=19, type_="Card", detail="Yellow Card"),
        ev(HOME, 631, "P. Foden", elapsed=30, type_="subst", detail="Substitution 1"),
        ev(AWAY, 152982, "C. Palmer", elapsed=40, detail="Missed Penalty"),
        ev(AWAY, 567, "Rúben Dias", elapsed=58, detail="Own Goal"),
        ev(HOME, None, None, elapsed=62, type_="Var", detail="Goal cancelled"),
        ev(HOME, 1100, "E. Haaland", elapsed=90, extra=3, detail="Penalty"),
    ]
    goals = goal_events(fixture(events))
    assert [(g.kind, g.elapsed, g.extra) for g in goals] == [
        ("normal", 12, None), ("own", 58, None), ("penalty", 90, 3)]
    assert [g.goal_id for g in goals] == [
        "1035037_50_1100_normal_1", "1035037_42_567_own_1", "1035037_50_1100_penalty_1"]
    assert goals[2].minute == "90+3'" and goals[0].minute == "12'"
    assert goals[0].assist_name == "P. Foden"
    assert goals[1].detail == "Own Goal" and goals[2].detail == "Penalty"


def test_shootout_kicks_are_not_goals():
    events = [
        ev(HOME, 909, "B. Fernandes", elapsed=30),
        ev(AWAY, 1622, "A. Isak", elapsed=75),
        ev(HOME, 909, "B. Fernandes", elapsed=120, detail="Penalty",
           comments="Penalty Shootout"),
        ev(AWAY, 1622, "A. Isak", elapsed=120, detail="Penalty", comments="Penalty Shootout"),
        ev(HOME, 1485, "M. Rashford", elapsed=120, detail="Missed Penalty",
           comments="Penalty Shootout"),
        # a penalty in extra time proper is a real goal
        ev(HOME, 1485, "M. Rashford", elapsed=118, detail="Penalty"),
    ]
    fx = fixture(events, status="PEN", elapsed=120, goals=(2, 1))
    goals = goal_events(fx)
    assert [g.goal_id for g in goals] == [
        "1035037_50_909_normal_1", "1035037_42_1622_normal_1", "1035037_50_1485_penalty_1"]
    assert not totals_disagree(fx)


def test_null_player_id_uses_a_name_slug_and_null_name_is_held():
    events = [
        ev(HOME, None, "Rodri Hernández", elapsed=5),
        ev(AWAY, None, None, elapsed=31),
        ev(HOME, None, "Rodri Hernández", elapsed=70),
    ]
    goals = goal_events(fixture(events))
    assert goals[0].goal_id == "1035037_50_rodri-hernandez_normal_1"
    assert goals[2].goal_id == "1035037_50_rodri-hernandez_normal_2"
    assert goals[1].goal_id is None and goals[1].held
    assert all("." not in g.goal_id for g in goals if g.goal_id)


def test_slugify_strips_accents_and_dots():
    assert slugify("Ødegaard, M.") == "odegaard-m"
    assert slugify("J. Álvarez") == "j-alvarez"
    assert slugify("Son Heung-Min") == "son-heung-min"


def test_minute_correction_keeps_the_id_and_n_counts_per_player_and_type():
    first = [
        ev(HOME, 1100, "E. Haaland", elapsed=12),
        ev(HOME, 1100, "E. Haaland", elapsed=44),
        ev(HOME, 1100, "E. Haaland", elapsed=77, detail="Penalty"),
        ev(AWAY, 1100, "E. Haaland", elapsed=80, detail="Own Goal"),
    ]
    corrected = copy.deepcopy(first)
    corrected[0]["time"]["elapsed"] = 11
    corrected[1]["time"].update(elapsed=45, extra=1)
    ids_before = [g.goal_id for g in goal_events(fixture(first))]
    ids_after = [g.goal_id for g in goal_events(fixture(corrected))]
    assert ids_before == ids_after == [
        "1035037_50_1100_normal_1", "1035037_50_1100_normal_2",
        "1035037_50_1100_penalty_1", "1035037_42_1100_own_1"]


def test_unknown_goal_detail_is_a_payload_error_not_a_default():
    with pytest.raises(PayloadError) as err:
        goal_events(fixture([ev(HOME, 1, "X", elapsed=3, detail="Golden Goal")]))
    assert err.value.field == "fixture[1035037].events[0].detail"


def test_listing_without_events_cannot_yield_goals():
    raw = item([])
    del raw["events"]
    with pytest.raises(PayloadError):
        goal_events(parse_fixture(raw))


# ---- totals vs events ----------------------------------------------------------------------


def test_totals_lagging_the_events_disagree():
    events = [ev(HOME, 1100, "E. Haaland", elapsed=12), ev(HOME, 631, "P. Foden", elapsed=60)]
    assert totals_disagree(fixture(events, goals=(1, 0)))
    assert not totals_disagree(fixture(events, goals=(2, 0)))
    check = totals_check(fixture(events, goals=(1, 0)))
    assert (check.events_home, check.events_away, check.totals_home) == (2, 0, 1)


def test_totals_accept_either_own_goal_convention():
    events = [ev(HOME, 567, "Rúben Dias", elapsed=58, detail="Own Goal")]
    assert not totals_disagree(fixture(events, goals=(1, 0)))  # event team credited
    assert not totals_disagree(fixture(events, goals=(0, 1)))  # opponent credited
    assert totals_disagree(fixture(events, goals=(1, 1)))


def test_null_totals_before_kickoff_agree_with_no_events():
    assert not totals_disagree(fixture([], status="NS", elapsed=None))
    assert totals_disagree(fixture([ev(HOME, 1, "A", elapsed=1)], goals=(None, None)))


# ---- debounce ------------------------------------------------------------------------------


def obs(goals_events, **kw):
    return goal_events(fixture(goals_events, **kw))


HAALAND = ev(HOME, 1100, "E. Haaland", elapsed=12)
FODEN = ev(HOME, 631, "P. Foden", elapsed=45, extra=1)
GID_H = "1035037_50_1100_normal_1"
GID_F = "1035037_50_631_normal_1"


def run(polls, known=None):
    known = dict(known or {})
    outcomes = []
    for poll_id, observed in polls:
        out = apply_poll(known, observed, poll_id)
        outcomes.append(out)
        known = out.tracks
    return known, outcomes


def test_confirmed_after_three_distinct_polls_repeats_count_once():
    seen = obs([HAALAND])
    known, outs = run([("p1", seen), ("p1", seen), ("p2", seen), ("p2", seen), ("p3", seen)])
    assert outs[0].newly_seen == [GID_H] and outs[0].tracks[GID_H].state == PENDING
    assert [o.newly_confirmed for o in outs] == [[], [], [], [], [GID_H]]
    assert outs[3].duplicate_poll
    assert known[GID_H].state == CONFIRMED and known[GID_H].seen_polls == 3
    assert known[GID_H].confirmed_poll == "p3" and known[GID_H].ever_confirmed
    assert outs[4].has_goal_changes and not outs[2].has_goal_changes


def test_first_seen_after_is_the_poll_before_the_goal_showed():
    start = datetime(2026, 3, 14, 15, 13, tzinfo=UTC)
    known: dict[str, GoalTrack] = {}
    for i, (poll_id, seen) in enumerate([("p0", []), ("p1", obs([HAALAND])),
                                         ("p2", obs([HAALAND])), ("p3", obs([HAALAND]))]):
        previous_poll_at = start + timedelta(seconds=40 * (i - 1))
        known = apply_poll(known, seen, poll_id, previous_poll_at=previous_poll_at).tracks
    assert known[GID_H].state == CONFIRMED
    assert known[GID_H].first_seen_after == start, "p1 showed it first; p0 was polled at start"


def test_absent_three_distinct_polls_is_withdrawn_with_reason():
    both, only_h = obs([HAALAND, FODEN]), obs([HAALAND])
    known, _ = run([("p1", both), ("p2", both), ("p3", both)])
    assert known[GID_F].state == CONFIRMED
    known, outs = run([("p4", only_h), ("p4", only_h), ("p5", only_h), ("p6", only_h)], known)
    assert [o.newly_withdrawn for o in outs] == [[], [], [], [GID_F]]
    track = known[GID_F]
    assert track.state == WITHDRAWN and track.missed_polls == 3
    assert "3 distinct polls" in track.withdrawn_reason and "p3" in track.withdrawn_reason
    assert outs[3].has_goal_changes
    assert known[GID_H].state == CONFIRMED and known[GID_H].missed_polls == 0


def test_reappearance_resets_the_absence_count():
    seen, none = obs([HAALAND]), obs([])
    known, _ = run([("p1", seen), ("p2", seen), ("p3", seen)])
    known, outs = run([("p4", none), ("p5", none), ("p6", seen), ("p7", none), ("p8", none)],
                      known)
    assert not any(o.newly_withdrawn for o in outs)
    assert known[GID_H].state == CONFIRMED and known[GID_H].missed_polls == 2
    known, outs = run([("p9", none)], known)
    assert outs[0].newly_withdrawn == [GID_H]


def test_withdrawn_goal_that_reappears_is_pending_again_and_reconfirms():
    seen, none = obs([FODEN]), obs([])
    known, _ = run([("p1", seen), ("p2", seen), ("p3", seen),
                    ("p4", none), ("p5", none), ("p6", none)])
    assert known[GID_F].state == WITHDRAWN
    known, outs = run([("p7", seen), ("p8", seen), ("p9", seen)], known)
    assert outs[0].reappeared == [GID_F] and outs[0].tracks[GID_F].state == PENDING
    assert [o.newly_confirmed for o in outs] == [[], [], [GID_F]]
    assert known[GID_F].times_withdrawn == 1 and known[GID_F].withdrawn_reason is None


def test_pending_goal_disallowed_before_confirmation_is_withdrawn():
    seen, none = obs([FODEN]), obs([])
    known, outs = run([("p1", seen), ("p2", none), ("p3", none), ("p4", none)])
    assert outs[3].newly_withdrawn == [GID_F]
    assert not known[GID_F].ever_confirmed


def test_minute_correction_is_a_change_not_a_new_goal():
    corrected = copy.deepcopy(HAALAND)
    corrected["time"]["elapsed"] = 11
    known, _ = run([("p1", obs([HAALAND])), ("p2", obs([HAALAND])), ("p3", obs([HAALAND]))])
    known, outs = run([("p4", obs([corrected]))], known)
    assert list(known) == [GID_H]
    assert outs[0].changed[0].changes == {"elapsed": (12, 11)}
    assert outs[0].has_goal_changes and known[GID_H].elapsed == 11


def test_held_goal_is_reported_not_tracked_until_named():
    unnamed = ev(AWAY, None, None, elapsed=31)
    named = ev(AWAY, None, "G. Martinelli", elapsed=31)
    known, outs = run([("p1", obs([unnamed])), ("p2", obs([unnamed]))])
    assert known == {} and len(outs[1].held) == 1 and not outs[1].settled
    known, outs = run([("p3", obs([named])), ("p4", obs([named])), ("p5", obs([named]))], known)
    gid = "1035037_42_g-martinelli_normal_1"
    assert outs[2].newly_confirmed == [gid] and outs[2].settled


def nameless_polls(polls, *, finished_from=None, known=None, held=None):
    """Run polls through name_nameless and apply_poll as the monitor does."""
    known, held = dict(known or {}), dict(held or {})
    outs, last = [], None
    for n, (poll_id, observed) in enumerate(polls):
        finished = 0 if finished_from is None or n < finished_from else n - finished_from + 1
        named = name_nameless(observed, held, set(known), finished_polls=finished,
                              repeat=poll_id == last)
        last = poll_id
        out = apply_poll(known, named.observations, poll_id)
        known, held = out.tracks, named.held
        outs.append(out)
    return known, held, outs


UNNAMED_GOAL = ev(AWAY, None, None, elapsed=31)
GID_UNNAMED = "1035037_42_unnamed_normal_1"


def test_a_name_that_never_comes_holds_the_goal_15_polls_then_it_is_processed_unnamed():
    polls = [(f"p{i}", obs([UNNAMED_GOAL])) for i in range(1, 18)]
    known, held, outs = nameless_polls(polls)
    assert [len(o.held) for o in outs[:14]] == [1] * 14 and not outs[13].tracks
    assert outs[14].newly_seen == [GID_UNNAMED] and held == {}
    assert outs[16].newly_confirmed == [GID_UNNAMED]  # then debounced like any goal
    assert known[GID_UNNAMED].player_name is None and outs[16].settled


def test_after_full_time_a_nameless_goal_waits_three_polls_not_fifteen():
    polls = [(f"p{i}", obs([UNNAMED_GOAL], status="FT")) for i in range(1, 7)]
    known, _, outs = nameless_polls(polls, finished_from=0)
    assert [len(o.held) for o in outs] == [1, 1, 0, 0, 0, 0]
    assert outs[4].newly_confirmed == [GID_UNNAMED]


def test_repeated_poll_ids_do_not_count_towards_the_wait():
    polls = [("p1", obs([UNNAMED_GOAL]))] * 20
    _, held, outs = nameless_polls(polls)
    assert held == {"42_normal_1": 1} and not outs[-1].tracks


def test_a_name_arriving_after_the_goal_was_processed_unnamed_renames_it():
    unnamed = [(f"p{i}", obs([UNNAMED_GOAL])) for i in range(1, 18)]
    known, held, _ = nameless_polls(unnamed)
    named = ev(AWAY, None, "G. Martinelli", elapsed=32)
    known, held, outs = nameless_polls(
        [("p18", obs([named])), ("p19", obs([named])), ("p20", obs([named]))],
        known=known, held=held)
    assert list(known) == [GID_UNNAMED], "the same goal: not a second one, nothing withdrawn"
    assert outs[0].changed[0].changes["player_name"] == (None, "G. Martinelli")
    assert outs[0].has_goal_changes and not any(o.newly_withdrawn for o in outs)
    assert known[GID_UNNAMED].state == CONFIRMED and known[GID_UNNAMED].elapsed == 32


def test_two_nameless_goals_of_a_team_get_their_own_ids():
    second = ev(AWAY, None, None, elapsed=70)
    polls = [(f"p{i}", obs([UNNAMED_GOAL, second], status="FT")) for i in range(1, 7)]
    known, _, _ = nameless_polls(polls, finished_from=0)
    assert sorted(known) == [GID_UNNAMED, "1035037_42_unnamed_normal_2"]
    assert [known[g].elapsed for g in sorted(known)] == [31, 70]


def test_apply_poll_does_not_mutate_its_input():
    known, _ = run([("p1", obs([HAALAND]))])
    snapshot = {k: v.to_record() for k, v in known.items()}
    apply_poll(known, obs([]), "p2")
    assert {k: v.to_record() for k, v in known.items()} == snapshot


def test_goal_track_record_is_flat_mongo_safe_and_round_trips():
    known, _ = run([("p1", obs([HAALAND, FODEN]))] * 1 + [("p2", obs([HAALAND, FODEN]))])
    for track in known.values():
        record = track.to_record()
        json.dumps(record)
        assert all("." not in k and not k.startswith("$") for k in record)
        assert all(not isinstance(v, dict | list | tuple) for v in record.values())
        stored = {**record, "_id": "x", "updated_at": "later"}
        assert GoalTrack.from_record(stored) == track
    with pytest.raises(PayloadError):
        GoalTrack.from_record({"goal_id": "x"})


def test_observation_of_held_goal_cannot_become_a_track():
    held = obs([ev(AWAY, None, None, elapsed=31)])[0]
    assert isinstance(held, GoalObservation)
    with pytest.raises(ValueError):
        GoalTrack.from_observation(held)
