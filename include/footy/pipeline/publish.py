"""publish_clips: each new keeper of a goal, once to every channel whose routing takes it.

Per (goal, keeper, channel) a publication try is recorded before the send and completed
after it (``footy.store.publications``), so a retried or re-run task never posts twice. The
message reads ``E. Haaland 23' - Manchester City [1] - 0 Arsenal``; the clip is attached when
the channel takes files and it fits the channel's limit, else linked (a presigned URL or
the configured public base URL). A better copy that replaces a published keeper of the same
goal is recorded as ``superseded``, not announced again. A goal withdrawn after it was
published gets one correction per channel that showed it. A channel that refuses a message
after its retries is recorded on the publication and on the goal
(``processing_status.publish.last_error``), and tried again at the next run.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pymongo.database import Database

from footy.errors import ConfigError, error_record
from footy.pipeline.discover import scores_after
from footy.publish.message import Scoreline, correction_text, goal_text
from footy.publish.routing import Channel, PublishConfig
from footy.storage import ClipStorage
from footy.store import publications as pubs
from footy.store.db import GOALS, VIDEOS
from footy.store.fixtures import find_fixture
from footy.store.goals import CONFIRMED, WITHDRAWN

log = logging.getLogger(__name__)

Sender = Callable[[str, str, Path | None], None]  # (conn_id, text, attachment) -> None
SUPERSEDED = "superseded"


def scoreline(db: Database, goal: Mapping[str, Any]) -> Scoreline | None:
    """The score right after the goal, as home/away, from its fixture."""
    found = find_fixture(db, int(goal.get("fixture_id") or 0))
    info = (found[1].get("fixture") or {}) if found else {}
    scores = scores_after(db, goal, own_goals_as_filed=True)
    if not info or not scores:
        return None
    team, opponent = scores[0]
    home = goal.get("team_id") == info.get("home_team_id")
    return Scoreline(home=str(info.get("home_team_name")), away=str(info.get("away_team_name")),
                     home_goals=team if home else opponent, away_goals=opponent if home else team,
                     scored_home=home)  # fmt: skip


def _link(storage: ClipStorage, cfg: PublishConfig, key: str) -> str:
    if cfg.public_base_url:
        return f"{cfg.public_base_url}/{key}"
    return storage.share_url(key, cfg.presign_seconds) or storage.url_for(key)


def _replaces_published(db: Database, goal_id: str, video: Mapping[str, Any], conn_id: str,
                        now: datetime) -> str | None:  # fmt: skip
    """The earlier keeper this one replaced, when that one was already published here."""
    for older in db[VIDEOS].find({"goal_id": goal_id, "duplicate_of": video["_id"]}, {"_id": 1}):
        key = pubs.publication_key(goal_id, str(older["_id"]), conn_id)
        if pubs.state_of(pubs.latest(db, key), now) in (pubs.SENT, SUPERSEDED):
            return str(older["_id"])
    return None


def _deliver(sender: Sender, channel: Channel, text: str, video: Mapping[str, Any],
             storage: ClipStorage, cfg: PublishConfig) -> dict[str, Any]:  # fmt: skip
    key = (video.get("storage") or {}).get("key")
    size = int((video.get("storage") or {}).get("size") or 0)
    if not key:
        raise ConfigError(f"kept clip {video['_id']} has no stored object")
    if channel.upload and 0 < size <= channel.max_upload_bytes:
        with tempfile.TemporaryDirectory(prefix="footy-publish-") as tmp:
            path = storage.get(key, Path(tmp) / f"{video.get('source_id') or 'clip'}.mp4")
            sender(channel.conn_id, text, path)
        return {"delivered": "file", "size": size}
    link = _link(storage, cfg, key)
    sender(channel.conn_id, f"{text}\n{link}", None)
    return {"delivered": "link", "link": link}


def _send_once(db: Database, key: str, fields: dict[str, Any], owner: str, now: datetime,
               cfg: PublishConfig, send: Callable[[], dict[str, Any]]) -> str:  # fmt: skip
    attempt = pubs.begin(db, key, fields, owner, now, timedelta(seconds=cfg.lease_seconds))
    if attempt is None:
        return "skipped"
    try:
        extra = send()
    except Exception as exc:  # recorded on the publication; the goal's other sends go on
        pubs.finish(db, attempt, now, error=exc)
        db[GOALS].update_one({"_id": fields["goal_id"]}, {"$set": {
            "processing_status.publish.last_error": {**error_record(exc), "at": now,
                                                     "channel": fields["channel"]}},
            "$inc": {"processing_status.publish.errors": 1}})  # fmt: skip
        log.warning("%s -> %s failed: %s: %s", key, fields["channel"], type(exc).__name__, exc)
        return "failed"
    pubs.finish(db, attempt, now, fields=extra)
    return "sent"


def publish_goal(db: Database, goal_id: str, storage: ClipStorage, cfg: PublishConfig,
                 sender: Sender, *, owner: str, now: datetime) -> dict[str, Any]:  # fmt: skip
    """Publish the goal's keepers (or its correction) to its channels; a JSON-able summary
    with the outcome of every (clip, channel): ``sent``, ``failed``, ``superseded`` or
    ``skipped`` (sent before, or in flight)."""
    goal = db[GOALS].find_one({"_id": goal_id})
    if goal is None:
        raise ConfigError(f"goal {goal_id!r} is not known")
    summary: dict[str, Any] = {"goal_id": goal_id, "label": goal.get("label") or goal_id,
                               "outcomes": {}}  # fmt: skip
    channels = cfg.channels_for(goal)
    if not channels:
        summary["skipped"] = "no channel's routing takes this goal"
        return summary
    if goal.get("status") == WITHDRAWN:
        return _correct(db, goal, channels, cfg, sender, owner, now, summary)
    if goal.get("status") != CONFIRMED:
        summary["skipped"] = f"goal is {goal.get('status')}"
        return summary
    keepers = list(db[VIDEOS].find({"goal_id": goal_id, "state": "kept"}).sort("_id", 1))
    if not keepers:
        summary["skipped"] = "no kept clip yet"
        return summary
    text = goal_text(goal, scoreline(db, goal))
    for channel in channels:
        for video in keepers:
            key = pubs.publication_key(goal_id, str(video["_id"]), channel.conn_id)
            fields = {"goal_id": goal_id, "video_id": video["_id"], "channel": channel.conn_id,
                      "text": text}  # fmt: skip
            replaced = _replaces_published(db, goal_id, video, channel.conn_id, now)
            if replaced:
                outcome = _send_once(db, key, {**fields, "replaces": replaced}, owner, now, cfg,
                                     lambda: {"state": SUPERSEDED})  # fmt: skip
                outcome = SUPERSEDED if outcome == "sent" else outcome
            else:
                outcome = _send_once(db, key, fields, owner, now, cfg, lambda video=video,
                                     channel=channel: _deliver(sender, channel, text, video,
                                                               storage, cfg))  # fmt: skip
            summary["outcomes"][f"{video['_id']} -> {channel.conn_id}"] = outcome
    return summary


def goals_with_news(db: Database, limit: int = 500) -> list[str]:
    """Goals a run without events should visit: those with a keeper, and withdrawn goals
    that were published somewhere (their correction). Visiting a goal with nothing new
    costs a look-up and sends nothing."""
    kept = set(db[VIDEOS].distinct("goal_id", {"state": "kept"}))
    withdrawn = set(db[GOALS].distinct("_id", {"status": WITHDRAWN}))
    shown = set(db[pubs.PUBLICATIONS].distinct("goal_id", {"state": pubs.SENT}))
    return sorted(kept | (withdrawn & shown))[:limit]


def _correct(db: Database, goal: Mapping[str, Any], channels: list[Channel], cfg: PublishConfig,
             sender: Sender, owner: str, now: datetime,
             summary: dict[str, Any]) -> dict[str, Any]:  # fmt: skip
    """One correction per channel that was shown the goal."""
    goal_id = str(goal["_id"])
    text = correction_text(goal)
    for channel in channels:
        shown = any(pubs.state_of(pubs.latest(db, d["key"]), now) == pubs.SENT
                    for d in db[pubs.PUBLICATIONS].find(
                        {"goal_id": goal_id, "channel": channel.conn_id,
                         "video_id": {"$exists": True}}, {"key": 1}))  # fmt: skip
        if not shown:
            continue
        key = pubs.publication_key(goal_id, pubs.WITHDRAWN_NOTICE, channel.conn_id)
        fields = {"goal_id": goal_id, "channel": channel.conn_id, "text": text,
                  "correction": True}  # fmt: skip
        summary["outcomes"][f"correction -> {channel.conn_id}"] = _send_once(
            db, key, fields, owner, now, cfg,
            lambda channel=channel: (sender(channel.conn_id, text, None) or {}))
    return summary
