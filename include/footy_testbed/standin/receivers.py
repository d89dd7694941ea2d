"""Stand-in chat receivers: a Discord webhook API and a generic JSON webhook.

* ``POST /api/webhooks/{id}/{token}`` speaks Discord's webhook protocol: a JSON message
  (``content``, ``embeds``...) or ``multipart/form-data`` with ``payload_json`` and
  ``files[n]``; answers 204 with Discord's ``X-RateLimit-*`` headers. Fault kind
  ``discord_rate_limit`` answers 429 as Discord does (``Retry-After``,
  ``X-RateLimit-Reset-After``, ``{"retry_after": ...}``); ``discord_upload_error`` answers
  500 to a file upload and lets a JSON message through (each request still counts).
* ``POST /hooks/{name}`` takes Apprise's generic JSON webhook body (``title``, ``message``,
  ``attachments`` in base64) and answers 200.

Every accepted message is kept, in order, for tests and the demo: :func:`received`, and
``GET /_standin/received`` from another process.
"""

from __future__ import annotations

import base64
import json
import time
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from footy_testbed.standin.server import (
    Fault,
    StandinRequest,
    StandinResponse,
    World,
    register,
    register_fault,
)

DISCORD_PREFIX = "/api/webhooks/"
HOOKS_PREFIX = "/hooks/"
STATE_KEY = "receivers"


def received(world: World, channel: str | None = None) -> list[dict[str, Any]]:
    """Messages accepted so far (``channel``: ``discord:{id}`` or ``hooks:{name}``)."""
    with world.lock:
        found = list(world.state.setdefault(STATE_KEY, {}).get("messages", []))
    return [m for m in found if channel is None or m["channel"] == channel]


def _keep(world: World, message: dict[str, Any]) -> None:
    with world.lock:
        world.state.setdefault(STATE_KEY, {}).setdefault("messages", []).append(message)


def _multipart(req: StandinRequest) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    head = f"Content-Type: {req.headers.get('content-type', '')}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + req.body)
    payload: dict[str, Any] = {}
    files = []
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        data = part.get_payload(decode=True) or b""
        if name == "payload_json":
            payload = json.loads(data)
        elif name and name.startswith("files["):
            files.append({"filename": part.get_filename(), "size": len(data),
                          "mp4": data[4:8] == b"ftyp"})  # fmt: skip
    return payload, files


def _rate_headers(remaining: int, reset_after: float) -> dict[str, str]:
    return {"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": "footy-standin"}  # fmt: skip


def discord_webhook(req: StandinRequest) -> StandinResponse:
    parts = req.path[len(DISCORD_PREFIX):].strip("/").split("/")
    if req.method != "POST" or len(parts) != 2 or not parts[0].isdigit() or not parts[1]:
        return StandinResponse.json_body({"message": "Unknown Webhook", "code": 10015}, 404)
    if req.headers.get("content-type", "").startswith("multipart/form-data"):
        payload, files = _multipart(req)
    else:
        payload, files = (req.json if isinstance(req.json, dict) else {}), []
    if not (payload.get("content") or payload.get("embeds") or files):
        return StandinResponse.json_body(
            {"message": "Cannot send an empty message", "code": 50006}, 400)
    _keep(req.world, {"channel": f"discord:{parts[0]}", "content": payload.get("content") or "",
                      "embeds": payload.get("embeds") or [], "files": files,
                      "at": time.time()})  # fmt: skip
    return StandinResponse(204, b"", _rate_headers(4, 1.0))


def json_hook(req: StandinRequest) -> StandinResponse:
    name = req.path[len(HOOKS_PREFIX):].strip("/")
    if req.method != "POST" or not name or not isinstance(req.json, dict):
        return StandinResponse.json_body({"error": "expected a JSON object"}, 400)
    attachments = [{"filename": a.get("filename"), "size": len(base64.b64decode(a["base64"])),
                    "mimetype": a.get("mimetype")}
                   for a in req.json.get("attachments") or [] if a.get("base64")]  # fmt: skip
    _keep(req.world, {"channel": f"hooks:{name}", "title": req.json.get("title") or "",
                      "content": req.json.get("message") or "", "files": attachments,
                      "at": time.time()})  # fmt: skip
    return StandinResponse.json_body({"ok": True})


def list_received(req: StandinRequest) -> StandinResponse:
    """``GET /_standin/received[?channel=discord:123]``: the messages accepted so far."""
    return StandinResponse.json_body(received(req.world, req.query.get("channel") or None))


def _discord_rate_limit(req: StandinRequest, fault: Fault) -> StandinResponse:
    wait = float(fault.seconds or 1.0)
    headers = {**_rate_headers(0, wait), "Retry-After": f"{wait:g}", "X-RateLimit-Scope": "user"}
    return StandinResponse.json_body(
        {"message": "You are being rate limited.", "retry_after": wait, "global": False}, 429,
        headers)


def _discord_upload_error(req: StandinRequest, fault: Fault) -> StandinResponse | None:
    if not req.headers.get("content-type", "").startswith("multipart/form-data"):
        return None  # a text message goes through
    return StandinResponse.json_body({"message": "500: Internal Server Error", "code": 0}, 500)


register("POST", DISCORD_PREFIX, discord_webhook)
register("POST", HOOKS_PREFIX, json_hook)
register("GET", "/_standin/received", list_received)
register_fault("discord_rate_limit", _discord_rate_limit)
register_fault("discord_upload_error", _discord_upload_error)
