"""Build an X recent-search query for one goal.

Shape: ``(<scorer terms OR-ed>) (<team names OR-ed>) has:videos -is:retweet``. A goal whose
scorer has no name is searched as ``(<opponent names OR-ed>) (<team names OR-ed>) ...``.

Scorer terms come from the name's parts: accents stripped, initials dropped, particles
("van", "de", "dos"...) never a term alone, suffixes ("Jr", "Júnior") only as a last resort,
parts of 4+ letters kept. A particle in front of a short surname keeps the compound
("de Wit"); a name with nothing usable (e.g. "Ali") is used whole. Terms with spaces or
punctuation are quoted. If the query would exceed X's 512 characters, the least useful
terms are dropped first: extra team aliases, then the scorer's secondary names.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from footy.errors import ConfigError
from footy.sources.base import GoalQuery

MAX_QUERY_LENGTH = 512
DEFAULT_OPERATORS = "has:videos -is:retweet"

# Letters NFKD does not decompose.
_TRANSLITERATE = str.maketrans(
    {
        "Ø": "O", "ø": "o", "Æ": "AE", "æ": "ae", "Œ": "OE", "œ": "oe", "ß": "ss",
        "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ð": "D", "ð": "d", "Þ": "Th", "þ": "th",
        "ı": "i", "Ħ": "H", "ħ": "h",
    }
)  # fmt: skip

PARTICLES = frozenset(
    {
        "van", "von", "der", "den", "ter", "ten", "het", "de", "del", "della", "delle", "dei",
        "degli", "di", "da", "das", "do", "dos", "du", "des", "la", "le", "lo", "el", "al",
        "bin", "ibn", "ben", "mac", "st", "y", "e",
    }
)  # fmt: skip
SUFFIXES = frozenset({"jr", "junior", "sr", "senior", "filho", "neto", "sobrinho", "ii", "iii"})

_INITIAL = re.compile(r"^[^\W\d_]\.?$|^(?:[^\W\d_]\.){2,}$")
_BARE_TERM = re.compile(r"^[A-Za-z0-9]+$")


def strip_accents(text: str) -> str:
    """``"Vinícius Ødegaard"`` -> ``"Vinicius Odegaard"`` (NFKD + a few transliterations)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_TRANSLITERATE))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def fold(text: str) -> str:
    """Accent- and case-insensitive form used for loose matching and de-duplication."""
    return strip_accents(text).casefold()


def _letters(part: str) -> int:
    return sum(ch.isalpha() for ch in part)


def _is_initial(part: str) -> bool:
    return bool(_INITIAL.match(part))


def scorer_terms(name: str, *, min_letters: int = 4) -> list[str]:
    """Search terms for a player's name, most useful first (the surname leads)."""
    parts = [p.strip(",;") for p in strip_accents(name).split()]
    parts = [p for p in parts if p and not _is_initial(p)]
    if not parts:
        cleaned = strip_accents(name).strip()
        return [cleaned] if cleaned else []

    # Group particles with the part that follows them: "van Dijk", "dos Santos", "de la Cruz".
    groups: list[tuple[list[str], str]] = []  # (particles, core)
    pending: list[str] = []
    for i, part in enumerate(parts):
        low = part.casefold()
        if low in PARTICLES and i < len(parts) - 1:
            pending.append(part)
            continue
        groups.append((pending, part))
        pending = []

    primary: list[str] = []  # surname-ish, most useful
    secondary: list[str] = []  # given / middle names
    usable = [
        i for i, (_, core) in enumerate(groups) if core.casefold().rstrip(".") not in SUFFIXES
    ]
    for i in usable:
        particles, core = groups[i]
        is_surname = i == usable[-1] or bool(particles)
        if _letters(core) >= min_letters:
            term = core
        elif particles:
            term = " ".join([*particles, core])  # "de Wit": too short alone, fine as a compound
        else:
            continue
        (primary if is_surname else secondary).append(term)

    # Given name first among secondary terms, middle names last.
    ordered = primary[::-1] + secondary[:1] + secondary[1:][::-1]
    terms = _dedupe(ordered)
    if terms:
        return terms
    whole = " ".join(parts)
    return [whole] if whole else []


def _dedupe(terms: Sequence[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for term in terms:
        term = " ".join(term.split())
        key = fold(term)
        if term and key not in seen:
            seen.add(key)
            out.append(term)
    return out


def quote_term(term: str) -> str:
    """Bare alphanumerics stay bare; anything else (spaces, hyphens, apostrophes) is quoted."""
    if _BARE_TERM.match(term):
        return term
    return '"' + term.replace('"', "") + '"'


def or_group(terms: Sequence[str]) -> str:
    return "(" + " OR ".join(quote_term(t) for t in terms) + ")"


@dataclass(frozen=True)
class QueryConfig:
    """Settings of the query builder. ``team_aliases`` maps a team name to extra names."""

    team_aliases: Mapping[str, Sequence[str]] = field(default_factory=dict)
    lookback: timedelta = timedelta(minutes=1)
    max_length: int = MAX_QUERY_LENGTH
    operators: str = DEFAULT_OPERATORS
    min_part_letters: int = 4

    def aliases_for(self, team_name: str) -> list[str]:
        key = fold(team_name)
        for name, aliases in self.team_aliases.items():
            if fold(name) == key:
                return list(aliases)
        return []


@dataclass(frozen=True)
class BuiltQuery:
    query: str
    start_time: datetime
    scorer_terms: tuple[str, ...]
    team_terms: tuple[str, ...]
    dropped: tuple[str, ...] = ()


def render(scorer: Sequence[str], team: Sequence[str], operators: str) -> str:
    pieces = [or_group(scorer), or_group(team)]
    if operators:
        pieces.append(operators)
    return " ".join(pieces)


def build_query(goal: GoalQuery, config: QueryConfig | None = None) -> BuiltQuery:
    """The X query and ``start_time`` for ``goal``; never longer than ``config.max_length``."""
    cfg = config or QueryConfig()
    if goal.scorer_name.strip():
        scorer = scorer_terms(goal.scorer_name, min_letters=cfg.min_part_letters)
    else:  # an unnamed goal: the opponent's names take the scorer's place
        opponent = goal.opponent_name or ""
        scorer = _dedupe([strip_accents(opponent)]
                         + [strip_accents(a) for a in cfg.aliases_for(opponent)])  # fmt: skip
    team = _dedupe(
        [strip_accents(goal.team_name)]
        + [strip_accents(a) for a in goal.team_aliases]
        + [strip_accents(a) for a in cfg.aliases_for(goal.team_name)]
    )
    if not scorer:
        raise ConfigError(f"goal {goal.goal_id}: scorer name {goal.scorer_name!r} gives no term")

    dropped: list[str] = []
    query = render(scorer, team, cfg.operators)
    while len(query) > cfg.max_length:
        if len(team) > 1:
            dropped.append(team.pop())
        elif len(scorer) > 1:
            dropped.append(scorer.pop())
        else:
            raise ConfigError(
                f"goal {goal.goal_id}: query is {len(query)} characters even with one scorer "
                f"term and the team name (limit {cfg.max_length})"
            )
        query = render(scorer, team, cfg.operators)

    return BuiltQuery(
        query=query,
        start_time=goal.goal_time - cfg.lookback,
        scorer_terms=tuple(scorer),
        team_terms=tuple(team),
        dropped=tuple(dropped),
    )


_GROUP = re.compile(r"\(([^()]*)\)")
_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


def parse_or_groups(query: str) -> list[list[str]]:
    """The OR-ed term groups of a query built here: ``[[scorer...], [team...]]``."""
    groups: list[list[str]] = []
    for inner in _GROUP.findall(query):
        terms = [q or bare for q, bare in _TOKEN.findall(inner)]
        groups.append([t for t in terms if t and t != "OR"])
    return groups
