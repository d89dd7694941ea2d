"""r/soccer goal-post titles: parse them, and match a post to the goal it shows.

The subreddit's convention for a goal clip is ``Home [1] - 0 Away - Scorer 23'``: the
brackets mark the side that just scored, the score is the score after the goal, and the
minute may carry stoppage time (``90+3'``). Variants seen in the wild: the brackets on either
side, no spaces around the dash, ``|`` or ``:`` instead of the second dash, an aggregate in
parentheses after the away team, penalty markers (``pen``, ``penalty``, ``(p)``), own-goal
markers (``OG``, ``own goal``) and a remark after the minute (``(great goal)``).

A title is a goal post only when exactly one score is bracketed, a minute follows the score
and nothing says the clip is something else (a save, a miss, a red card, a disallowed goal).
Match threads and other non-goal posts never parse.

A post matches a goal when the bracketed side is the goal's team (either side for an own
goal, as feeds disagree on which team an own goal is filed under), the other side is its
opponent, the score is one the goal can have left, the minute is within a tolerance and the
scorer's surname is in the title (not checked for a goal the feed never named). A post that
matches a goal and one of its rivals (``GoalQuery.rivals``) is matched to neither.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from footy.sources.base import GoalQuery
from footy.sources.query import fold, scorer_terms

MINUTE_TOLERANCE = 3

_DASHES = re.compile(r"[\u2010-\u2015\u2212]")
_APOSTROPHES = re.compile(r"[\u2019\u2032\u00b4`\u2018]")
_SCORE = re.compile(
    r"^(?P<home>.+?)\s+(?P<hs>\[\s*\d{1,2}\s*\]|\d{1,2})\s*-\s*(?P<as>\[\s*\d{1,2}\s*\]|\d{1,2})"
    r"(?:\s+|(?=[^\w\s]))(?P<rest>.+)$"
)
_SEPARATOR = re.compile(r"\s+[-|]\s+|\s*:\s+|\s*\|\s*|,\s+")
_MINUTE = re.compile(r"(?<![\w.+])(\d{1,3})(?:\s*\+\s*(\d{1,2}))?\s*'")
_BARE_MINUTE = re.compile(r"(?<![\w.+])(\d{1,3})(?:\s*\+\s*(\d{1,2}))?\s*$")
_AGGREGATE = re.compile(r"\(\s*\d{1,2}\s*-\s*\d{1,2}\s*(?:on\s+)?agg\w*\.?\s*\)", re.I)
_PENALTY = re.compile(r"\bpen(?:alty|\.)?(?=\W|$)|\(\s*p\s*\)", re.I)
_OWN_GOAL = re.compile(r"\bown[\s-]+goal\b|\bo\.?g\b\.?", re.I)
_NOT_A_GOAL = re.compile(
    r"\b(?:sav(?:e|es|ed)|miss(?:es|ed)?|red\s+card|yellow\s+card|sent\s+off|disallowed|"
    r"ruled\s+out|offside|chance|foul|injur\w*|tackle|hits\s+the\s+(?:post|bar)|woodwork|"
    r"interview|press\s+conference|reaction|shoot-?out|celebration|no\s+goal|var\s+check)\b",
    re.I,
)
_THREADS = ("match thread", "post match thread", "post-match thread", "pre-match thread",
            "pre match thread", "half time thread", "daily discussion", "free talk")  # fmt: skip
_TEAM_AFFIXES = frozenset({"fc", "cf", "afc", "sc", "ac", "as", "ssc", "club", "cd", "ud",
                           "sv", "vfb", "vfl", "tsg", "rc", "1", "the", "de", "&"})  # fmt: skip
_ABBREVIATIONS = {"utd": "united", "athletic": "athletic", "st": "saint", "man": "manchester"}


@dataclass(frozen=True)
class GoalPost:
    """What a goal-post title says. ``scored_home`` is the bracketed side; ``after_score``
    is the title after the score (away team, then the scorer and minute)."""

    home: str
    after_score: str
    away: str
    scorer: str
    home_score: int
    away_score: int
    scored_home: bool
    minute: int
    stoppage: int
    penalty: bool
    own_goal: bool

    @property
    def total_minute(self) -> int:
        return self.minute + self.stoppage


def _normalise(title: str) -> str:
    title = _APOSTROPHES.sub("'", _DASHES.sub("-", title))
    return " ".join(title.split())


def _score(raw: str) -> tuple[int, bool]:
    bracketed = raw.startswith("[")
    return int(raw.strip("[] ")), bracketed


def parse_goal_title(title: str) -> GoalPost | None:
    """The goal a title announces, or None when it is not a goal post."""
    text = _normalise(title)
    if fold(text).startswith(_THREADS):
        return None
    found = _SCORE.match(text)
    if found is None:
        return None
    home_score, home_marked = _score(found["hs"])
    away_score, away_marked = _score(found["as"])
    if home_marked == away_marked:  # no bracket: a result, not a goal; two: nonsense
        return None
    if (home_score if home_marked else away_score) < 1:
        return None
    rest = _AGGREGATE.sub(" ", found["rest"]).strip()
    minute = _MINUTE.search(rest)
    if minute is None:  # "Saka 23" without the apostrophe, at the very end
        minute = _BARE_MINUTE.search(rest)
        if minute is None:
            return None
    before_minute = rest[: minute.start()]
    split = _SEPARATOR.search(before_minute)
    if split is None:
        away, scorer = before_minute.strip(), ""
    else:
        away, scorer = before_minute[: split.start()].strip(), before_minute[split.end() :]
    remark = rest[minute.end() :]
    if _NOT_A_GOAL.search(scorer) or _NOT_A_GOAL.search(remark):
        return None
    home = found["home"].strip(" -|:")
    if not home or not away:
        return None
    markers = scorer + " " + remark
    scorer_name = _PENALTY.sub(" ", _OWN_GOAL.sub(" ", scorer))
    scorer_name = " ".join(scorer_name.replace("(", " ").replace(")", " ").split()).strip(" -,")
    scorer_name = re.sub(r"^by\s+", "", scorer_name, flags=re.I)  # "Own goal by Gatti"
    return GoalPost(
        home=home,
        after_score=rest,
        away=away,
        scorer=scorer_name,
        home_score=home_score,
        away_score=away_score,
        scored_home=home_marked,
        minute=int(minute[1]),
        stoppage=int(minute[2] or 0),
        penalty=bool(_PENALTY.search(markers)),
        own_goal=bool(_OWN_GOAL.search(markers)),
    )


# ---- matching --------------------------------------------------------------------------------


def _team_tokens(name: str) -> list[str]:
    words = re.findall(r"[a-z0-9]+", fold(name))
    kept = [w for w in words if w not in _TEAM_AFFIXES]
    return kept or words


def _token_matches(short: str, full: str) -> bool:
    short = _ABBREVIATIONS.get(short, short)
    return short == full or (len(short) >= 3 and full.startswith(short))


def same_team(posted: str, names: Iterable[str]) -> bool:
    """Whether a team name in a title is one of ``names`` (a name or its alias): the same
    words once accents, case and affixes ("FC", "AC") are dropped, where a title's word may be
    a prefix of the name's ("Man City" for "Manchester City", "Bayern" for "Bayern Munich")."""
    post = _team_tokens(posted)
    if not post:
        return False
    for name in names:
        full = _team_tokens(name)
        if full == post:
            return True
        pairs = zip(post, full, strict=False)
        if len(post) <= len(full) and all(_token_matches(p, f) for p, f in pairs):
            return True
    return False


def _scorer_named(post: GoalPost, goal: GoalQuery) -> bool:
    if not goal.scorer_name.strip():
        return True  # a goal the feed never named: teams, score and minute must do
    words = fold(post.after_score)
    for term in scorer_terms(goal.scorer_name):
        if re.search(rf"(?<![a-z]){re.escape(fold(term))}(?![a-z])", words):
            return True
    return False


def _sides(post: GoalPost) -> tuple[str, str, int, int]:
    """(scoring side, other side, its score, the other's score) as the title puts them."""
    if post.scored_home:
        return post.home, post.away, post.home_score, post.away_score
    return post.away, post.home, post.away_score, post.home_score


def matches(post: GoalPost, goal: GoalQuery, *, tolerance: int = MINUTE_TOLERANCE) -> bool:
    """Whether ``post`` shows ``goal`` (teams, score after the goal, minute, scorer)."""
    team_names = (goal.team_name, *goal.team_aliases)
    opponent = goal.opponent_name or ""
    opponent_names = (opponent, *goal.opponent_aliases) if opponent else ()
    scored, other, scored_goals, other_goals = _sides(post)
    own_goal = goal.own_goal or post.own_goal
    if same_team(scored, team_names) and (not opponent_names or same_team(other, opponent_names)):
        score = (scored_goals, other_goals)
    elif own_goal and opponent_names and same_team(other, team_names) \
            and same_team(scored, opponent_names):  # fmt: skip
        score = (other_goals, scored_goals)  # filed under the other team by the feed
    else:
        return False
    if goal.scores_after and score not in goal.scores_after:
        return False
    if goal.minute is not None:
        expected = goal.minute + (goal.stoppage or 0)
        if abs(post.total_minute - expected) > tolerance:
            return False
    return _scorer_named(post, goal)


def matching_goal(post: GoalPost, goal: GoalQuery, *,
                  tolerance: int = MINUTE_TOLERANCE) -> bool:  # fmt: skip
    """``matches`` for ``goal`` and for none of its rivals: an ambiguous post is nobody's."""
    if not matches(post, goal, tolerance=tolerance):
        return False
    return not any(matches(post, rival, tolerance=tolerance) for rival in goal.rivals)


def possible_scores_after(
    earlier: Sequence[bool | None], same_minute: Sequence[bool | None] = (), *,
    own_goal: bool = False,
) -> tuple[tuple[int, int], ...]:
    """Scores (team, opponent) a goal can have left.

    ``earlier`` lists the goals strictly before its minute and ``same_minute`` the other goals
    of that minute, each as True (the goal's team scored it), False (the opponent did) or
    None (an own goal: feeds disagree on which team they file it under). A feed orders goals
    of one minute arbitrarily, so each of those may have come before it or after. An
    ``own_goal`` itself counts for either side, for the same reason.
    """

    def add(scores: set[tuple[int, int]], side: bool | None) -> set[tuple[int, int]]:
        sides = (True, False) if side is None else (side,)
        return {(team + ours, opponent + (not ours)) for team, opponent in scores
                for ours in sides}  # fmt: skip

    scores = add({(0, 0)}, None if own_goal else True)
    for side in earlier:
        scores = add(scores, side)
    for side in same_minute:
        scores |= add(scores, side)
    return tuple(sorted(scores))
