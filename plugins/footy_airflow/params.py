"""JSON Schemas for manual-run conf: a bad conf is refused before a run exists."""

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

GOAL_IDS_SCHEMA = {"type": "array", "items": {"type": "string", "minLength": 1}}
