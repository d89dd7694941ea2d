"""``MongoQuerySensor``: wait until a MongoDB query matches, then hand the ids downstream."""

from __future__ import annotations

from collections.abc import Callable, Sequence
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


# How a stage chooses its work: (context, ids the query matched or None) -> ids to map.
Chooser = Callable[[Any, "list[Any] | None"], list[str]]


class WorkSelectionSensor(MongoQuerySensor):
    """A stage run's first task: wait for work only when the run brings none, then choose the
    goals (or fixtures) the run maps (returned to XCom, ready for ``.expand()``).

    A run whose conf names its work (any of ``manual_keys``, by default the goals), or one
    started by an Asset event (a hand-off or a watcher: work exists), chooses at once. Any
    other run (a manual run naming nothing; with ``wait_on_events``, every run whose conf
    names nothing) first waits, deferred in the triggerer, until ``query`` matches.
    ``choose(context, found)`` picks the work (``found``: the ids the query matched, ``None``
    when the run did not wait) and may skip the task. On timeout the task is skipped, or with
    ``choose_on_timeout`` chooses anyway (a stage that also finishes goals with nothing left
    to wait for).

    One task rather than a branch, a sensor and a selection task: each task instance is a
    process and a trip through the scheduler, and a busy day starts hundreds of stage runs.
    """

    def __init__(
        self,
        *,
        choose: Chooser,
        wait_on_events: bool = False,
        choose_on_timeout: bool = False,
        manual_keys: tuple[str, ...] = ("goal_ids", "goal_id"),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.choose = choose
        self.manual_keys = manual_keys
        self.wait_on_events = wait_on_events
        self.choose_on_timeout = choose_on_timeout

    def execute(self, context: Any) -> list[Any]:
        params = context.get("params") or {}
        if any(params.get(key) for key in self.manual_keys):
            return self.choose(context, None)
        if context.get("triggering_asset_events") and not self.wait_on_events:
            self.log.info("Started by an Asset event: choosing goals without waiting")
            return self.choose(context, None)
        found = super().execute(context)  # returns what matches now, or defers
        return self.choose(context, found)

    def execute_complete(self, context: Any, event: dict[str, Any]) -> list[Any]:
        if event.get("status") == "timeout" and self.choose_on_timeout:
            self.log.info("Nothing in %s matched in time; choosing anyway", self.collection)
            return self.choose(context, [])
        return self.choose(context, super().execute_complete(context, event))
