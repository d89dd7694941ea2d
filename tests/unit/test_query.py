"""Query builder on real player names."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from footy.errors import ConfigError
from footy.sources.base import GoalQuery
from footy.sources.query import (
    MAX_QUERY_LENGTH,
    QueryConfig,
    build_query,
    fold,
    parse_or_groups,
    quote_term,
    scorer_terms,
    strip_accents,
)

GOAL_TIME = datetime(2026, 3, 14, 15, 23, 0, tzinfo=UTC)


def goal(scorer: str, team: str = "Bournemouth", aliases: tuple[str, ...] = ()) -> GoalQuery:
    return GoalQuery(
        goal_id=f"1_{team}_{scorer}_Normal Goal_1",
        fixture_id=1,
        scorer_name=scorer,
        team_name=team,
        goal_time=GOAL_TIME,
        minute=23,
        opponent_name="Manchester City",
        team_aliases=aliases,
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Antoine Semenyo", ["Semenyo", "Antoine"]),
        ("Erling Braut Haaland", ["Haaland", "Erling", "Braut"]),
        ("Kevin De Bruyne", ["Bruyne", "Kevin"]),
        ("Vinícius Júnior", ["Vinicius"]),
        ("Martin Ødegaard", ["Odegaard", "Martin"]),
        ("Rúben Dias", ["Dias", "Ruben"]),
        ("Pedri", ["Pedri"]),
        ("Rodri", ["Rodri"]),
        ("Ali", ["Ali"]),
        ("N. Jackson", ["Jackson"]),
        ("Virgil van Dijk", ["Dijk", "Virgil"]),
        ("Son Heung-min", ["Heung-min"]),
        ("Joško Gvardiol", ["Gvardiol", "Josko"]),
        ("Dani de Wit", ["de Wit", "Dani"]),
        ("J. Ali", ["Ali"]),
        ("Giovani Lo Celso", ["Celso", "Giovani"]),
    ],
)
def test_scorer_terms_real_names(name: str, expected: list[str]) -> None:
    assert scorer_terms(name) == expected


def test_particles_are_never_terms_alone() -> None:
    for name in ("Virgil van Dijk", "Kevin De Bruyne", "Emerson Palmieri dos Santos", "Lo Celso"):
        terms = [t.casefold() for t in scorer_terms(name)]
        for particle in ("van", "de", "dos", "da", "lo"):
            assert particle not in terms


def test_initials_dropped_and_accents_stripped() -> None:
    assert strip_accents("Vinícius Ødegaard Joško Łukasz") == "Vinicius Odegaard Josko Lukasz"
    assert scorer_terms("J. R. Smith-Rowe") == ["Smith-Rowe"]
    assert fold("RÚBEN") == "ruben"


def test_quoting() -> None:
    assert quote_term("Semenyo") == "Semenyo"
    assert quote_term("Manchester City") == '"Manchester City"'
    assert quote_term("Heung-min") == '"Heung-min"'


def test_reference_shape() -> None:
    built = build_query(goal("Antoine Semenyo", "Bournemouth", ("AFCB", "Cherries")))
    assert built.query == (
        "(Semenyo OR Antoine) (Bournemouth OR AFCB OR Cherries) has:videos -is:retweet"
    )
    assert built.start_time == GOAL_TIME - timedelta(minutes=1)
    assert built.dropped == ()


def test_team_aliases_from_config_are_merged_and_deduplicated() -> None:
    cfg = QueryConfig(
        team_aliases={"Manchester City": ["City", "Man City", "manchester city"]},
        lookback=timedelta(seconds=90),
    )
    built = build_query(goal("Erling Braut Haaland", "Manchester City", ("MCFC",)), cfg)
    assert built.team_terms == ("Manchester City", "MCFC", "City", "Man City")
    assert '("Manchester City" OR MCFC OR City OR "Man City")' in built.query
    assert built.start_time == GOAL_TIME - timedelta(seconds=90)
    assert parse_or_groups(built.query) == [
        ["Haaland", "Erling", "Braut"],
        ["Manchester City", "MCFC", "City", "Man City"],
    ]


def test_accented_team_name_is_stripped() -> None:
    built = build_query(goal("Antoine Griezmann", "Atlético Madrid"))
    assert '"Atletico Madrid"' in built.query


def test_long_query_drops_least_useful_terms_first() -> None:
    aliases = tuple(f"Alias number {i} of the club" for i in range(40))
    built = build_query(goal("Erling Braut Haaland", "Manchester City", aliases))
    assert len(built.query) <= MAX_QUERY_LENGTH
    assert built.scorer_terms == ("Haaland", "Erling", "Braut")  # scorer kept whole
    assert built.team_terms[0] == "Manchester City"
    assert built.dropped and built.dropped[0] == aliases[-1]  # last alias dropped first


def test_query_drops_scorer_secondaries_after_aliases() -> None:
    cfg = QueryConfig(max_length=70)
    built = build_query(goal("Erling Braut Haaland", "Manchester City", ("City",)), cfg)
    assert len(built.query) <= 70
    assert built.scorer_terms[0] == "Haaland"
    assert built.team_terms == ("Manchester City",)
    assert "City" in built.dropped


def test_query_impossible_to_fit_raises() -> None:
    with pytest.raises(ConfigError):
        build_query(goal("Erling Braut Haaland", "Manchester City"), QueryConfig(max_length=20))


def test_goal_query_requires_aware_time() -> None:
    with pytest.raises(ValueError):
        GoalQuery("g", 1, "Pedri", "Barcelona", datetime(2026, 1, 1))
