"""The Assets that start footy's DAG runs.

Hand-offs: a stage's ``announce_...`` task emits one when it made work for the next stage
(event extras carry the ids), so the next stage starts at once. A task that hands work on
only sometimes, or to more than one stage, has the alias ``HANDOFFS`` as its outlet and
emits through it exactly the events it has work for (:func:`hand_off`).

Watched: an ``AssetWatcher`` in the triggerer polls a stage's waiting work
(``footy.store.backlog``) and updates the Asset when work has waited past its grace period
with no run on it (a search attempt that became due, a download retried later, a goal a
crashed run left behind). Together they replace the minute-by-minute fallback schedule: a
stage DAG run exists only when there is work for it, and an idle stack starts none.
"""

from typing import Any

from airflow.sdk import Asset, AssetAlias, AssetWatcher, get_current_context

from footy.store.db import db_name_from_env
from footy_airflow.defaults import poll_seconds
from footy_airflow.triggers import WorkWaitingTrigger

FIXTURE_GOAL_CHANGES = Asset("footy_fixture_goal_changes", group="footy")
"""monitor_fixtures -> process_goals. extra: {"fixture_ids": [...]}"""

WITHDRAWN_GOALS = Asset("footy_withdrawn_goals", group="footy")
"""process_goals -> filter_videos (removes their stored clips). extra: {"goal_ids": [...]}"""

CONFIRMED_GOALS = Asset("footy_confirmed_goals", group="footy")
"""process_goals -> scrape_twitter. extra: {"goal_ids": [...]}"""

SEARCHES_PENDING = Asset("footy_searches_pending", group="footy")
"""scrape_twitter -> itself: goals whose search window goes on. extra: {"goal_ids": [...]}

The next run starts at once and its deferred sensor wakes exactly when the next attempt is
due, so attempts follow the configured interval."""

CLIP_CANDIDATES = Asset("footy_clip_candidates", group="footy")
"""scrape_twitter -> download_videos. extra: {"goal_ids": [...], "video_ids": [...]}"""

STORED_CLIPS = Asset("footy_stored_clips", group="footy")
"""download_videos -> filter_videos. extra: {"goal_ids": [...]}"""

KEPT_CLIPS = Asset("footy_kept_clips", group="footy")
"""filter_videos -> anyone who wants the kept clips. extra: {"goal_ids": [...]}"""


HANDOFFS = AssetAlias("footy_handoffs", group="footy")
"""Outlet of the tasks that decide at run time which hand-offs they emit, if any."""


def hand_off(asset: Asset, extra: dict[str, Any]) -> None:
    """Emit ``asset``'s event from a task whose outlet is ``HANDOFFS``."""
    get_current_context()["outlet_events"][HANDOFFS].add(asset, extra=extra)


def watched(name: str, kind: str, **timing: float) -> Asset:
    """An Asset updated by a :class:`WorkWaitingTrigger` on ``kind`` work (event extra:
    ``{"from_trigger": true, "payload": {"kind", "ids", "waiting"}}``)."""
    trigger = WorkWaitingTrigger(kind=kind, db_name=db_name_from_env(), **timing)
    watcher = AssetWatcher(name=f"{name}_watcher", trigger=trigger)
    return Asset(name, group="footy", watchers=[watcher])


GOAL_CHANGES_WAITING = watched("footy_goal_changes_waiting", "goal_changes")
SEARCHES_WAITING = watched("footy_searches_waiting", "search")
DOWNLOADS_WAITING = watched("footy_downloads_waiting", "download")
FILTERING_WAITING = watched("footy_filtering_waiting", "filter")

ACTIVE_FIXTURES = watched(
    "footy_active_fixtures", "active_fixtures",
    poll_interval=5.0, grace_seconds=0.0, refire_seconds=float(poll_seconds()),
)  # fmt: skip
"""Ticks every ``FOOTY_MONITOR_POLL_SECONDS`` while there is an active fixture: the
monitor_fixtures schedule. No active fixture, no tick, no run."""
