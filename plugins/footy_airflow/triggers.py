"""Triggers run by the triggerer: a deferrable wait on a MongoDB query, and the watcher
that starts a stage DAG run when work is waiting for it.

``run()`` only reads (a trigger may be re-assigned and run twice) and never blocks the
event loop.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from airflow.triggers.base import BaseEventTrigger, BaseTrigger, TriggerEvent

from footy.store.query import NOW, resolve_query

__all__ = ["NOW", "MongoQueryTrigger", "WaitingWork", "WorkWaitingTrigger", "resolve_query"]


class MongoQueryTrigger(BaseTrigger):
    """Fires once ``query`` on ``collection`` matches, with up to ``limit`` matching ``_id``s."""

    def __init__(
        self,
        collection: str,
        query: dict[str, Any],
        db_name: str,
        conn_id: str = "mongo_default",
        limit: int = 100,
        sort: list[list[Any]] | None = None,
        poll_interval: float = 5.0,
        timeout_at: str | None = None,
    ) -> None:
        super().__init__()
        self.collection = collection
        self.query = copy.deepcopy(query)
        self.db_name = db_name
        self.conn_id = conn_id
        self.limit = limit
        self.sort = sort
        self.poll_interval = poll_interval
        # Absolute deadline (ISO): enforced here too, so a run that executes the trigger
        # inline (``dag.test()``) honours the sensor's timeout like the triggerer does.
        self.timeout_at = timeout_at

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "collection": self.collection,
                "query": self.query,
                "db_name": self.db_name,
                "conn_id": self.conn_id,
                "limit": self.limit,
                "sort": self.sort,
                "poll_interval": self.poll_interval,
                "timeout_at": self.timeout_at,
            },
        )

    async def matching_ids(self, client: Any) -> list[Any]:
        cursor = client[self.db_name][self.collection].find(
            resolve_query(self.query, datetime.now(UTC)), {"_id": 1}
        )
        if self.sort:
            cursor = cursor.sort([tuple(pair) for pair in self.sort])
        return [doc["_id"] async for doc in cursor.limit(self.limit)]

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.sdk import BaseHook
        from pymongo import AsyncMongoClient
        from pymongo.errors import PyMongoError

        from footy_airflow.mongo import uri_from_connection

        conn = await BaseHook.aget_connection(self.conn_id)
        uri, options = uri_from_connection(conn)
        client: AsyncMongoClient = AsyncMongoClient(uri, **options)
        deadline = datetime.fromisoformat(self.timeout_at) if self.timeout_at else None
        failures = 0
        try:
            while True:
                if deadline and datetime.now(UTC) >= deadline:
                    yield TriggerEvent({"status": "timeout", "ids": []})
                    return
                try:
                    ids = await self.matching_ids(client)
                    failures = 0
                except PyMongoError as exc:
                    # The server restarted or is unreachable: the client reconnects on the
                    # next operation; keep waiting with a bounded backoff.
                    failures += 1
                    self.log.warning("Mongo query failed (%s), retry %d", exc, failures)
                    await asyncio.sleep(min(self.poll_interval * failures, 60.0))
                    continue
                if ids:
                    yield TriggerEvent({"status": "matched", "ids": ids})
                    return
                await asyncio.sleep(self.poll_interval)
        finally:
            await client.close()


class WaitingWork:
    """When a watcher fires: the pure part of :class:`WorkWaitingTrigger` (no I/O, no clock).

    An id fires once it has been waiting ``grace`` seconds without a break (a hand-off run
    picks announced work up well within that), and again only after ``refire`` seconds if it
    is still waiting (the run it started failed or is held up). Airflow starts a run for
    every event a watcher fires, so firing on every poll while work waits would start a storm
    of runs; this fires at most once per ``refire`` for the same work.
    """

    def __init__(self, grace: float, refire: float) -> None:
        self.grace = grace
        self.refire = refire
        self.since: dict[Any, float] = {}  # id -> when it was first seen waiting
        self.fired: dict[Any, float] = {}  # id -> when it last fired

    def observe(self, ids: list[Any], now: float) -> list[Any]:
        """The ids to fire for now (empty: fire nothing), given those waiting at ``now``."""
        self.since = {i: self.since.get(i, now) for i in ids}
        self.fired = {i: t for i, t in self.fired.items() if i in self.since}
        stale = [i for i in ids if now - self.since[i] >= self.grace]
        if not any(i not in self.fired or now - self.fired[i] >= self.refire for i in stale):
            return []
        self.fired.update(dict.fromkeys(stale, now))
        return stale


class WorkWaitingTrigger(BaseEventTrigger):
    """Watches one stage's waiting work (``footy.store.backlog``) for an ``AssetWatcher``.

    Polls every ``poll_interval`` seconds and fires ``{"kind", "ids", "waiting"}`` by the
    :class:`WaitingWork` rule. The stage's queries are synchronous pymongo code shared with
    the DAGs' own tasks, so they run in a worker thread (``asyncio.to_thread``), never on the
    triggerer's event loop. Database errors are logged and retried with a bounded backoff.
    """

    def __init__(
        self,
        kind: str,
        db_name: str,
        conn_id: str = "mongo_default",
        poll_interval: float = 15.0,
        grace_seconds: float = 60.0,
        refire_seconds: float = 300.0,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.db_name = db_name
        self.conn_id = conn_id
        self.poll_interval = poll_interval
        self.grace_seconds = grace_seconds
        self.refire_seconds = refire_seconds

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "kind": self.kind,
                "db_name": self.db_name,
                "conn_id": self.conn_id,
                "poll_interval": self.poll_interval,
                "grace_seconds": self.grace_seconds,
                "refire_seconds": self.refire_seconds,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        from airflow.sdk import BaseHook
        from pymongo import MongoClient
        from pymongo.errors import PyMongoError

        from footy.store.backlog import waiting
        from footy_airflow.mongo import uri_from_connection

        conn = await BaseHook.aget_connection(self.conn_id)
        uri, options = uri_from_connection(conn)
        client: MongoClient = MongoClient(uri, **options)
        db = client[self.db_name]
        policy = WaitingWork(self.grace_seconds, self.refire_seconds)
        loop = asyncio.get_running_loop()
        failures = 0
        try:
            while True:
                try:
                    ids = await asyncio.to_thread(waiting, db, self.kind, datetime.now(UTC))
                    failures = 0
                except PyMongoError as exc:
                    failures += 1
                    self.log.warning("%s: work query failed (%s), retry %d",
                                     self.kind, exc, failures)  # fmt: skip
                    await asyncio.sleep(min(self.poll_interval * failures, 120.0))
                    continue
                fire = policy.observe(ids, loop.time())
                if fire:
                    self.log.info("%s: %d waiting, firing for %s", self.kind, len(ids), fire[:10])
                    yield TriggerEvent({"kind": self.kind, "ids": fire[:50], "waiting": len(ids)})
                await asyncio.sleep(self.poll_interval)
        finally:
            await asyncio.to_thread(client.close)
