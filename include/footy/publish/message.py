"""The text of a publication: ``E. Haaland 23' - Manchester City [1] - 0 Arsenal``.

Brackets mark the side that scored, as r/soccer writes it; the score is the score right
after the goal. A penalty reads ``(pen)`` and an own goal ``(OG)`` after the scorer.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

OWN_GOAL = "Own Goal"
PENALTY = "Penalty"
UNNAMED = "Unnamed scorer"


@dataclass(frozen=True)
class Scoreline:
    home: str
    away: str
    home_goals: int
    away_goals: int
    scored_home: bool

    def render(self) -> str:
        home = f"[{self.home_goals}]" if self.scored_home else str(self.home_goals)
        away = str(self.away_goals) if self.scored_home else f"[{self.away_goals}]"
        return f"{self.home} {home} - {away} {self.away}"


def minute(goal: Mapping[str, Any]) -> str:
    extra = goal.get("extra")
    return f"{goal.get('elapsed')}+{extra}'" if extra else f"{goal.get('elapsed')}'"


def scorer(goal: Mapping[str, Any]) -> str:
    name = str(goal.get("player_name") or UNNAMED)
    detail = goal.get("detail")
    marker = " (pen)" if detail == PENALTY else " (OG)" if detail == OWN_GOAL else ""
    return name + marker


def goal_text(goal: Mapping[str, Any], scoreline: Scoreline | None) -> str:
    """``E. Haaland 23' - Manchester City [1] - 0 Arsenal`` (without a known score: the
    fixture, ``Manchester City v Arsenal``)."""
    where = scoreline.render() if scoreline else str(goal.get("fixture_label") or "")
    return f"{scorer(goal)} {minute(goal)} - {where}".rstrip(" -")


def correction_text(goal: Mapping[str, Any]) -> str:
    """What a channel is told when a goal it was shown is withdrawn (VAR, a feed fix)."""
    reason = goal.get("withdrawn_reason") or "withdrawn by the feed"
    return (f"Correction: no goal. {scorer(goal)} {minute(goal)} "
            f"({goal.get('fixture_label') or goal.get('label') or goal.get('_id')}) was "
            f"disallowed ({reason}).")  # fmt: skip
