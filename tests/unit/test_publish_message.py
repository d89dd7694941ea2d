"""What a publication says, and which channels take a goal."""

from __future__ import annotations

from footy.publish.message import Scoreline, correction_text, goal_text
from footy.publish.routing import PublishConfig

GOAL = {"player_name": "E. Haaland", "elapsed": 23, "extra": None, "detail": "Normal Goal",
        "fixture_label": "Manchester City v Arsenal", "team_name": "Manchester City",
        "opponent_name": "Arsenal", "league_id": 39}  # fmt: skip


def test_a_fans_text() -> None:
    city_first = Scoreline("Manchester City", "Arsenal", 1, 0, scored_home=True)
    assert goal_text(GOAL, city_first) == "E. Haaland 23' - Manchester City [1] - 0 Arsenal"
    late_pen = {**GOAL, "elapsed": 90, "extra": 3, "detail": "Penalty"}
    level = Scoreline("Manchester City", "Arsenal", 2, 2, scored_home=True)
    assert goal_text(late_pen, level) == "E. Haaland (pen) 90+3' - Manchester City [2] - 2 Arsenal"
    own = {**GOAL, "player_name": "Rúben Dias", "detail": "Own Goal"}
    away = Scoreline("Manchester City", "Arsenal", 1, 2, scored_home=False)
    assert goal_text(own, away) == "Rúben Dias (OG) 23' - Manchester City 1 - [2] Arsenal"
    unnamed = {**GOAL, "player_name": None}
    assert goal_text(unnamed, None) == "Unnamed scorer 23' - Manchester City v Arsenal"


def test_a_correction_names_the_goal_and_why() -> None:
    text = correction_text({**GOAL, "withdrawn_reason": "VAR: offside"})
    assert text.startswith("Correction: no goal. E. Haaland 23'")
    assert "Manchester City v Arsenal" in text and "VAR: offside" in text


def test_routing_by_league_team_or_all() -> None:
    cfg = PublishConfig.from_dict({"channels": [
        {"conn_id": "all"}, {"conn_id": "pl", "leagues": [39]},
        {"conn_id": "gunners", "teams": ["ARSENAL"]}, {"conn_id": "liga", "leagues": [140]},
        {"conn_id": "madrid", "teams": ["Atlético Madrid"]}]})  # fmt: skip
    assert [c.conn_id for c in cfg.channels_for(GOAL)] == ["all", "pl", "gunners"]
    atleti = {**GOAL, "team_name": "Atletico Madrid", "opponent_name": "Sevilla",
              "league_id": 140}  # fmt: skip
    assert [c.conn_id for c in cfg.channels_for(atleti)] == ["all", "liga", "madrid"]
    assert PublishConfig.from_dict({}).channels == ()
