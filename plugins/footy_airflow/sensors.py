"""``MongoQuerySensor``: wait until a MongoDB query matches, then hand the ids downstream."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from airflow.sdk import BaseSensorOperator, PokeReturnValue
from airflow.sdk.exceptions import AirflowSensorTimeout

from footy.store.db import db_name_from_env
from footy.store.query import resolve_query
from footy_airflow.mongo import DEFAULT_CONN_ID, footy_db
from footy_airflow.triggers import MongoQueryTrigger


class MongoQuerySensor(BaseSensorOperator):
    """Returns (to XCom) the ``_id``s matching ``query``, at most ``limit`` of them.

    Checks once in ``execute()`` and defers to :class:`MongoQueryTrigger` only when nothing
    matches yet, so most runs never defer. The return value is a list, ready for
    ``.expand()``. ``"$$NOW"`` in the query stands for the current UTC time.
    """

    template_fields: Sequence[str] = ("collection", "query", "limit")
    ui_color = "#4db33d"

    def __init__(
        self,
        *,
        collection: str,
        query: dict[str, Any],
        limit: int = 100,
        sort: list[list[Any]] | None = None,
        mongo_conn_id: str = DEFAULT_CONN_ID,
        db_name: str | None = None,
        deferrable: bool = True,
        trigger_poll_interval: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.collection = collection
        self.query = query
        self.limit = limit
        self.sort = sort
        self.mongo_conn_id = mongo_conn_id
        self.db_name = db_name
        self.deferrable = deferrable
        self.trigger_poll_interval = trigger_poll_interval

    def _matching_ids(self) -> list[Any]:
        db = footy_db(self.mongo_conn_id, self.db_name)
        cursor = db[self.collection].find(resolve_query(self.query, datetime.now(UTC)), {"_id": 1})
        if self.sort:
            cursor = cursor.sort([tuple(pair) for pair in self.sort])
        return [doc["_id"] for doc in cursor.limit(int(self.limit))]

    def poke(self, context: Any) -> PokeReturnValue:
        ids = self._matching_ids()
        return PokeReturnValue(is_done=bool(ids), xcom_value=ids)

    def execute(self, context: Any) -> list[Any]:
        if not self.deferrable:
            return super().execute(context)
        ids = self._matching_ids()
        if ids:
            self.log.info("%d document(s) in %s already match", len(ids), self.collection)
            return ids
        self.log.info("Nothing in %s matches yet; deferring", self.collection)
        self.defer(
            trigger=MongoQueryTrigger(
                collection=self.collection,
                query=self.query,
                db_name=self.db_name or db_name_from_env(),
                conn_id=self.mongo_conn_id,
                limit=int(self.limit),
                sort=self.sort,
                poll_interval=self.trigger_poll_interval,
                timeout_at=(datetime.now(UTC) + timedelta(seconds=self.timeout)).isoformat(),
            ),
            method_name="execute_complete",
            timeout=timedelta(seconds=self.timeout),
        )

    def execute_complete(self, context: Any, event: dict[str, Any]) -> list[Any]:
        if event.get("status") == "timeout":
            # soft_fail turns this into a skip (BaseSensorOperator.resume_execution).
            raise AirflowSensorTimeout(f"nothing in {self.collection} matched in time")
        ids = list(event.get("ids") or [])
        self.log.info("%d document(s) in %s matched while deferred", len(ids), self.collection)
        return ids
