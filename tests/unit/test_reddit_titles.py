"""r/soccer goal-post titles, written from the subreddit's conventions, and post-to-goal
matching on them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from footy.sources.base import GoalQuery
from footy.sources.reddit_titles import (
    matches,
    matching_goal,
    parse_goal_title,
    possible_scores_after,
    same_team,
)

# title -> (home, away, home score, away score, home scored, scorer, minute, stoppage,
#           penalty, own goal)
GOAL_TITLES = {
    "Arsenal [1] - 0 Chelsea - Bukayo Saka 23'":
        ("Arsenal", "Chelsea", 1, 0, True, "Bukayo Saka", 23, 0, False, False),
    "Real Madrid 2 - [2] Barcelona - Lewandowski 90+3'":
        ("Real Madrid", "Barcelona", 2, 2, False, "Lewandowski", 90, 3, False, False),
    "Manchester City [2] - 1 Arsenal - Erling Haaland penalty 67'":
        ("Manchester City", "Arsenal", 2, 1, True, "Erling Haaland", 67, 0, True, False),
    "Liverpool 1 - [1] Chelsea - Cole Palmer pen. 45+2'":
        ("Liverpool", "Chelsea", 1, 1, False, "Cole Palmer", 45, 2, True, False),
    "Tottenham [1] - 0 Everton - Jarrad Branthwaite OG 12'":
        ("Tottenham", "Everton", 1, 0, True, "Jarrad Branthwaite", 12, 0, False, True),
    "Brentford 0 - [1] Fulham - Nathan Collins (own goal) 31'":
        ("Brentford", "Fulham", 0, 1, False, "Nathan Collins", 31, 0, False, True),
    "Arsenal [1]-0 Chelsea - Saka 23'":
        ("Arsenal", "Chelsea", 1, 0, True, "Saka", 23, 0, False, False),
    "Arsenal 0-[1] Chelsea - Palmer 5'":
        ("Arsenal", "Chelsea", 0, 1, False, "Palmer", 5, 0, False, False),
    "Bayern München [3] - 1 Borussia Dortmund - Harry Kane 55' (great solo goal)":
        ("Bayern München", "Borussia Dortmund", 3, 1, True, "Harry Kane", 55, 0, False, False),
    "Atlético Madrid 1 - [2] Sevilla - Isaac Romero 78'":
        ("Atlético Madrid", "Sevilla", 1, 2, False, "Isaac Romero", 78, 0, False, False),
    "Inter [2] - 0 Milan | Lautaro Martínez 40'":
        ("Inter", "Milan", 2, 0, True, "Lautaro Martínez", 40, 0, False, False),
    "PSG [2] - 1 Liverpool (3-2 on agg.) - Ousmane Dembélé 88'":
        ("PSG", "Liverpool", 2, 1, True, "Ousmane Dembélé", 88, 0, False, False),
    "Schalke 04 [1] - 0 Hertha BSC - Moussa Sylla 17'":
        ("Schalke 04", "Hertha BSC", 1, 0, True, "Moussa Sylla", 17, 0, False, False),
    "1. FC Köln 0 - [1] Mainz 05 - Jonathan Burkardt 12'":
        ("1. FC Köln", "Mainz 05", 0, 1, False, "Jonathan Burkardt", 12, 0, False, False),
    "Brighton & Hove Albion 0 - [1] Man Utd - Bruno Fernandes 45+1' (pen)":
        ("Brighton & Hove Albion", "Man Utd", 0, 1, False, "Bruno Fernandes", 45, 1, True, False),
    "Flamengo [1] - 0 Grêmio - Everton 33'":
        ("Flamengo", "Grêmio", 1, 0, True, "Everton", 33, 0, False, False),
    "Everton [1] - 0 Chelsea - Dominic Calvert-Lewin 9'":
        ("Everton", "Chelsea", 1, 0, True, "Dominic Calvert-Lewin", 9, 0, False, False),
    "Barcelona [4] - 1 Getafe - Lamine Yamal 120+1'":
        ("Barcelona", "Getafe", 4, 1, True, "Lamine Yamal", 120, 1, False, False),
    "Napoli 1 - [1] Roma – Paulo Dybala 61’":
        ("Napoli", "Roma", 1, 1, False, "Paulo Dybala", 61, 0, False, False),
    "Celtic [2] — 0 Rangers - Kyogo Furuhashi 2′":
        ("Celtic", "Rangers", 2, 0, True, "Kyogo Furuhashi", 2, 0, False, False),
    "Ajax [1] - 0 PSV: Brian Brobbey 50'":
        ("Ajax", "PSV", 1, 0, True, "Brian Brobbey", 50, 0, False, False),
    "Benfica 0 - [1] Porto, Samu Aghehowa 70'":
        ("Benfica", "Porto", 0, 1, False, "Samu Aghehowa", 70, 0, False, False),
    "Newcastle [1] - 0 Aston Villa - Alexander Isak (p) 22'":
        ("Newcastle", "Aston Villa", 1, 0, True, "Alexander Isak", 22, 0, True, False),
    "West Ham 1 - [3] Wolves - Jørgen Strand Larsen 90+6'":
        ("West Ham", "Wolves", 1, 3, False, "Jørgen Strand Larsen", 90, 6, False, False),
    "Crystal Palace [1] - 1 Brighton - Jean-Philippe Mateta 84' (Great goal)":
        ("Crystal Palace", "Brighton", 1, 1, True, "Jean-Philippe Mateta", 84, 0, False, False),
    "Lyon [1] - 0 Marseille - Rayan Cherki 19' - stunning volley":
        ("Lyon", "Marseille", 1, 0, True, "Rayan Cherki", 19, 0, False, False),
    "Sporting CP [1] - 0 Braga - Viktor Gyökeres penalty 90+10'":
        ("Sporting CP", "Braga", 1, 0, True, "Viktor Gyökeres", 90, 10, True, False),
    "Juventus 0 - [1] Lazio - Own goal by Federico Gatti 8'":
        ("Juventus", "Lazio", 0, 1, False, "Federico Gatti", 8, 0, False, True),
    "Real Sociedad [1] - 0 Athletic Club - Mikel Oyarzabal 23":
        ("Real Sociedad", "Athletic Club", 1, 0, True, "Mikel Oyarzabal", 23, 0, False, False),
    "Leverkusen 2 - [2] Stuttgart - Deniz Undav 45 +2'":
        ("Leverkusen", "Stuttgart", 2, 2, False, "Deniz Undav", 45, 2, False, False),
    "Al-Hilal [1] - 0 Al-Nassr - Aleksandar Mitrović 35'":
        ("Al-Hilal", "Al-Nassr", 1, 0, True, "Aleksandar Mitrović", 35, 0, False, False),
    "Inter Miami [2] - 2 Orlando City - Lionel Messi 90+4' (free kick)":
        ("Inter Miami", "Orlando City", 2, 2, True, "Lionel Messi", 90, 4, False, False),
    "Boca Juniors [1] - 0 River Plate - Edinson Cavani 64'":
        ("Boca Juniors", "River Plate", 1, 0, True, "Edinson Cavani", 64, 0, False, False),
    "Galatasaray [ 1 ] - 0 Fenerbahçe - Victor Osimhen 27'":
        ("Galatasaray", "Fenerbahçe", 1, 0, True, "Victor Osimhen", 27, 0, False, False),
    "England [1] - 0 Germany - Jude Bellingham 90+5'":
        ("England", "Germany", 1, 0, True, "Jude Bellingham", 90, 5, False, False),
    "Nottingham Forest 0 - [1] Leicester City - Jamie Vardy 1'":
        ("Nottingham Forest", "Leicester City", 0, 1, False, "Jamie Vardy", 1, 0, False, False),
    "Wrexham [10] - 0 Colchester - Paul Mullin 88'":
        ("Wrexham", "Colchester", 10, 0, True, "Paul Mullin", 88, 0, False, False),
    "Ipswich 1 - [1] Southampton - Kyle Walker-Peters 60' (OG)":
        ("Ipswich", "Southampton", 1, 1, False, "Kyle Walker-Peters", 60, 0, False, True),
    "Villarreal [1] - 0 Valencia - Ayoze Pérez 7' (Penalty)":
        ("Villarreal", "Valencia", 1, 0, True, "Ayoze Pérez", 7, 0, True, False),
    "Man City [1] - 0 Man Utd - Phil Foden 39'":
        ("Man City", "Man Utd", 1, 0, True, "Phil Foden", 39, 0, False, False),
    "Arsenal [2] - 0 Chelsea - Martinelli 23'":
        ("Arsenal", "Chelsea", 2, 0, True, "Martinelli", 23, 0, False, False),
    "Arsenal 2 - [1] Chelsea - Nicolas Jackson 23'":
        ("Arsenal", "Chelsea", 2, 1, False, "Nicolas Jackson", 23, 0, False, False),
}

NOT_GOAL_TITLES = [
    "Match Thread: Arsenal vs Chelsea | Premier League",
    "Post Match Thread: Arsenal 2-1 Chelsea | Premier League",
    "Post-Match Thread: Real Madrid [2] - 2 Barcelona",
    "Pre-Match Thread: Liverpool vs Manchester City",
    "Arteta press conference ahead of Chelsea",
    "Great save by David Raya vs Chelsea 34'",
    "Arsenal 1 - 0 Chelsea - Bukayo Saka 23'",  # no bracket: a result, not a goal
    "Arsenal [1] - [0] Chelsea - Bukayo Saka 23'",
    "Arsenal [1] - 0 Chelsea - Great save by Robert Sánchez 30'",
    "Arsenal [1] - 0 Chelsea - Kai Havertz goal disallowed for offside 40'",
    "Liverpool 0 - 0 Everton - Ashley Young red card 70'",
    "Liverpool [0] - 0 Everton - Salah penalty miss 12'",
    "Liverpool [1] - 0 Everton - Mohamed Salah penalty saved 12'",
    "Mbappé hits the post vs Barcelona 55'",
    "Haaland's reaction after scoring 2 - 1 winner",
    "Real Madrid [3] - 1 Barcelona - Vinícius Júnior chance 80'",
    "Arsenal [1] - 0 Chelsea",  # no minute
    "Daily Discussion [2026-12-03]",
    "Bayern [5] - 4 Leverkusen (penalty shootout) - Musiala",
    "Free Talk Friday",
    "Which team had the best 2-0 comeback?",
]


@pytest.mark.parametrize("title", list(GOAL_TITLES))
def test_goal_titles_parse(title: str) -> None:
    post = parse_goal_title(title)
    assert post is not None, title
    got = (post.home, post.away, post.home_score, post.away_score, post.scored_home,
           post.scorer, post.minute, post.stoppage, post.penalty, post.own_goal)  # fmt: skip
    assert got == GOAL_TITLES[title]


@pytest.mark.parametrize("title", NOT_GOAL_TITLES)
def test_non_goal_titles_never_parse(title: str) -> None:
    assert parse_goal_title(title) is None


def test_enough_real_looking_titles() -> None:
    assert len(GOAL_TITLES) + len(NOT_GOAL_TITLES) >= 50


def goal(scorer: str, team: str, opponent: str, minute: int, score: tuple[int, int], *,
         stoppage: int | None = None, own_goal: bool = False, team_aliases: tuple[str, ...] = (),
         opponent_aliases: tuple[str, ...] = (),
         rivals: tuple[GoalQuery, ...] = ()) -> GoalQuery:  # fmt: skip
    return GoalQuery(
        goal_id=f"{team}_{scorer}_{minute}", fixture_id=1, scorer_name=scorer, team_name=team,
        goal_time=datetime(2026, 12, 5, 15, 30, tzinfo=UTC), minute=minute,
        opponent_name=opponent, team_aliases=team_aliases, opponent_aliases=opponent_aliases,
        stoppage=stoppage, own_goal=own_goal, scores_after=(score,), rivals=rivals,
    )  # fmt: skip


def post(title: str):
    parsed = parse_goal_title(title)
    assert parsed is not None, title
    return parsed


def test_matches_teams_score_minute_and_surname() -> None:
    saka = goal("B. Saka", "Arsenal", "Chelsea", 23, (1, 0))
    assert matches(post("Arsenal [1] - 0 Chelsea - Bukayo Saka 23'"), saka)
    assert matches(post("Arsenal [1] - 0 Chelsea - Saka 25'"), saka)  # within tolerance
    assert not matches(post("Arsenal [1] - 0 Chelsea - Saka 30'"), saka)  # minute
    assert not matches(post("Arsenal [2] - 0 Chelsea - Saka 23'"), saka)  # score
    assert not matches(post("Arsenal [1] - 0 Chelsea - Martinelli 23'"), saka)  # scorer
    assert not matches(post("Chelsea [1] - 0 Arsenal - Saka 23'"), saka)  # wrong side
    assert not matches(post("Arsenal [1] - 0 Fulham - Saka 23'"), saka)  # other match


def test_stoppage_time_is_compared_on_the_match_clock() -> None:
    lewy = goal("R. Lewandowski", "Barcelona", "Real Madrid", 90, (2, 2), stoppage=3)
    assert matches(post("Real Madrid 2 - [2] Barcelona - Lewandowski 90+3'"), lewy)
    assert not matches(post("Real Madrid 2 - [2] Barcelona - Lewandowski 90+9'"), lewy)


def test_short_names_and_aliases() -> None:
    foden = goal("P. Foden", "Manchester City", "Manchester United", 39, (1, 0))
    assert matches(post("Man City [1] - 0 Man Utd - Phil Foden 39'"), foden)
    isak = goal("A. Isak", "Newcastle United", "Tottenham Hotspur", 22, (1, 0),
                opponent_aliases=("Spurs",))  # fmt: skip
    assert matches(post("Newcastle [1] - 0 Spurs - Alexander Isak (p) 22'"), isak)
    assert same_team("Bayern", ["Bayern München"])
    assert same_team("Atletico Madrid", ["Atlético Madrid"])
    assert not same_team("Manchester United", ["Manchester City"])


def test_scorer_named_like_a_team() -> None:
    everton = goal("Everton", "Flamengo", "Gremio", 33, (1, 0))
    assert matches(post("Flamengo [1] - 0 Grêmio - Everton 33'"), everton)
    dcl = goal("D. Calvert-Lewin", "Everton", "Chelsea", 9, (1, 0))
    assert matches(post("Everton [1] - 0 Chelsea - Dominic Calvert-Lewin 9'"), dcl)
    assert not matches(post("Flamengo [1] - 0 Grêmio - Everton 33'"), dcl)


def test_two_goals_in_the_same_minute_go_to_their_own_goal() -> None:
    martinelli = goal("Gabriel Martinelli", "Arsenal", "Chelsea", 23, (2, 0))
    jackson = goal("N. Jackson", "Chelsea", "Arsenal", 23, (1, 2))
    first, second = post("Arsenal [2] - 0 Chelsea - Martinelli 23'"), post(
        "Arsenal 2 - [1] Chelsea - Nicolas Jackson 23'")  # fmt: skip
    assert matches(first, martinelli) and not matches(first, jackson)
    assert matches(second, jackson) and not matches(second, martinelli)


def test_own_goal_filed_under_either_team() -> None:
    # The feed files the own goal under the team that benefits, or the scorer's own team.
    benefits = goal("J. Branthwaite", "Tottenham", "Everton", 12, (1, 0), own_goal=True)
    scorers_team = goal("J. Branthwaite", "Everton", "Tottenham", 12, (0, 1), own_goal=True)
    title = post("Tottenham [1] - 0 Everton - Jarrad Branthwaite OG 12'")
    assert matches(title, benefits)
    assert matches(title, scorers_team)


def test_a_post_matching_two_goals_is_matched_to_neither() -> None:
    # Two fixtures share the names (the men's and the women's team on the same afternoon).
    women = goal("A. Russo", "Arsenal", "Chelsea", 23, (1, 0))
    men = goal("A. Russo", "Arsenal", "Chelsea", 24, (1, 0), rivals=(women,))
    title = post("Arsenal [1] - 0 Chelsea - Russo 23'")
    assert matches(title, men)
    assert not matching_goal(title, men)
    alone = goal("A. Russo", "Arsenal", "Chelsea", 24, (1, 0))
    assert matching_goal(title, alone)


def test_an_unnamed_goal_matches_on_teams_score_and_minute() -> None:
    unnamed = goal("", "Wrexham", "Colchester", 88, (10, 0))
    assert matches(post("Wrexham [10] - 0 Colchester - Paul Mullin 88'"), unnamed)
    assert not matches(post("Wrexham [9] - 0 Colchester - Paul Mullin 88'"), unnamed)


def test_possible_scores_after_a_goal() -> None:
    assert possible_scores_after([True, False, True]) == ((3, 1),)
    # One other goal in the same minute, by the opponent: it came before or after ours.
    assert possible_scores_after([True], [False]) == ((2, 0), (2, 1))
    assert possible_scores_after([], [True]) == ((1, 0), (2, 0))
    # An earlier own goal counts for either side.
    assert possible_scores_after([None]) == ((1, 1), (2, 0))
    assert possible_scores_after([True], own_goal=True) == ((1, 1), (2, 0))
