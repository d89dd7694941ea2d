"""Deferrable wait on a MongoDB query, run by the triggerer.

``run()`` only reads (a trigger may be re-assigned and run twice) and never blocks the
event loop: it uses pymongo's asyncio client and ``BaseHook.aget_connection``.
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from footy.store.query import NOW, resolve_query

__all__ = ["NOW", "MongoQueryTrigger", "resolve_query"]

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
