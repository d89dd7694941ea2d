"""Refuse a manual run's conf with keys its DAG does not declare, before the run exists.

An ASGI middleware on Airflow's API server (registered by ``footy_airflow.plugin``): a
``POST /api/v2/dags/{dag_id}/dagRuns`` (the REST API, and the UI's trigger form, which uses
it) for a DAG tagged ``footy`` whose ``conf`` has a key the DAG's Params do not declare gets
``400`` naming the key, and no run is created. Other requests and other DAGs pass untouched.
The declared keys come from the serialized DAG, so they cannot drift from the DAG file.
"""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from footy_airflow.params import refusal, unknown_keys

TRIGGER_PATH = re.compile(r"^/api/v2/dags/(?P<dag_id>[^/]+)/dagRuns/?$")
TAG = "footy"


def declared_params(dag_id: str) -> list[str] | None:
    """The Params of a footy DAG, or None for a DAG that is not footy's (or not known)."""
    from airflow.models.serialized_dag import SerializedDagModel

    dag = SerializedDagModel.get_dag(dag_id)
    if dag is None or TAG not in (dag.tags or ()):
        return None
    return list(dag.params.keys())


def problem_with(dag_id: str, body: bytes) -> str | None:
    try:
        conf = json.loads(body or b"{}").get("conf")
    except (ValueError, AttributeError):
        return None  # not ours to judge: Airflow answers a malformed body itself
    if not isinstance(conf, dict) or not conf:
        return None
    declared = declared_params(dag_id)
    if declared is None:
        return None
    unknown = unknown_keys(conf, declared)
    return refusal(dag_id, unknown, declared) if unknown else None


class ConfGuard:
    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        match = TRIGGER_PATH.match(scope.get("path", "")) if scope["type"] == "http" else None
        if match is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        messages, body = [], b""
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                break
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        problem = await asyncio.to_thread(problem_with, match["dag_id"], body)
        if problem:
            payload = json.dumps({"detail": problem}).encode()
            await send({"type": "http.response.start", "status": 400,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(payload)).encode())]})
            await send({"type": "http.response.body", "body": payload})
            return

        async def replay() -> dict:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)
