"""The manual-run conf contract: JSON Schemas for each DAG's Params, the spec's aliases, and
the check that refuses keys a DAG does not declare.

Airflow validates declared Params before a run exists but passes undeclared keys through, so
a misspelt key would start an ordinary run that ignores it. ``footy_airflow.conf_guard``
refuses such a conf at the REST API (the UI's trigger form uses it too) before a run exists;
``refuse_unknown_conf`` is every footy task's pre-execute hook, so on a path that cannot be
intercepted (``airflow dags trigger`` writes the run itself) the run's first task fails at
once, naming the key, and changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from airflow.sdk import Param
from airflow.sdk.exceptions import AirflowFailException

# {fixture}_{team}_{player id or name slug}_{normal|own|penalty}_{n}: no "$", no dots, so an
# id can never be a MongoDB operator or a field path.
GOAL_ID_PATTERN = r"^[0-9]+_[0-9]+_[a-z0-9-]+_(normal|own|penalty)_[0-9]+$"
GOAL_ID_SCHEMA = {"type": "string", "pattern": GOAL_ID_PATTERN, "maxLength": 200}
GOAL_IDS_SCHEMA = {"type": "array", "items": GOAL_ID_SCHEMA, "maxItems": 1024}


def goal_ids_param(description: str) -> Param:
    return Param([], **GOAL_IDS_SCHEMA, description=description)


def goal_id_param() -> Param:
    """The spec's own key (``{"goal_id": "..."}``), accepted on every goal stage: one goal,
    the same as ``goal_ids: [goal_id]``."""
    return Param(None, type=["null", "string"], pattern=GOAL_ID_PATTERN, maxLength=200,
                 description="One goal (the spec's key; same as goal_ids with one id)")


def requested_goal_ids(params: Mapping[str, Any] | None) -> list[str]:
    """The goals a manual run names, through either key, each once, in order."""
    params = params or {}
    ids = list(params.get("goal_ids") or [])
    if params.get("goal_id"):
        ids.append(params["goal_id"])
    return list(dict.fromkeys(ids))


def unknown_keys(conf: Mapping[str, Any] | None, declared: Iterable[str]) -> list[str]:
    return sorted(set(conf or {}) - set(declared))


def refusal(dag_id: str, unknown: list[str], declared: Iterable[str]) -> str:
    known = ", ".join(sorted(declared)) or "none"
    keys = ", ".join(repr(k) for k in unknown)
    return f"{dag_id}: conf key(s) {keys} not accepted (this DAG's keys: {known})"


def refuse_unknown_conf(context: Mapping[str, Any]) -> None:
    """Pre-execute hook of every footy task: fail, naming the key, on an undeclared one."""
    dag_run, dag = context.get("dag_run"), context.get("dag")
    if dag_run is None or dag is None:
        return
    declared = list(dag.params.keys())
    unknown = unknown_keys(dag_run.conf, declared)
    if unknown:
        raise AirflowFailException(refusal(dag.dag_id, unknown, declared))


GOAL_EVENT_SCHEMA = {
    "type": "object",
    "required": ["time", "team", "player", "type", "detail"],
    "properties": {
        "time": {
            "type": "object",
            "required": ["elapsed"],
            "properties": {
                "elapsed": {"type": "integer", "minimum": 0},
                "extra": {"type": ["integer", "null"]},
            },
        },
        "team": {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}},
        },
        "player": {
            "type": "object",
            "required": ["name"],
            "properties": {
                "id": {"type": ["integer", "null"]},
                "name": {"type": ["string", "null"]},
            },
        },
        "assist": {"type": ["object", "null"]},
        "type": {"const": "Goal"},
        "detail": {"enum": ["Normal Goal", "Own Goal", "Penalty"]},
        "comments": {"type": ["string", "null"]},
    },
}

# The spec's process_goals example passes the fixture id as a string ("fixture_id": "...").
FIXTURE_ID_SCHEMA = {"anyOf": [{"type": "null"}, {"type": "integer", "minimum": 1},
                               {"type": "string", "pattern": "^[1-9][0-9]{0,17}$"}]}
