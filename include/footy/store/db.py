"""Connection, collection names and indexes."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime

from pymongo import ASCENDING, DESCENDING, IndexModel, MongoClient
from pymongo.database import Database
from pymongo.errors import AutoReconnect, PyMongoError

from footy.errors import ConfigError, TransientError

FIXTURES_STAGING = "fixtures_staging"
FIXTURES_ACTIVE = "fixtures_active"
FIXTURES_COMPLETED = "fixtures_completed"
GOALS = "goals"
VIDEOS = "videos"
CLAIMS = "claims"
API_USAGE = "api_usage"

DEFAULT_DB_NAME = "footy"

# Timeouts on every call: a stalled database must fail a task, not hang it.
CLIENT_OPTIONS = {
    "serverSelectionTimeoutMS": 5_000,
    "connectTimeoutMS": 5_000,
    "socketTimeoutMS": 30_000,
    "retryWrites": False,  # FerretDB does not support retryable writes
    "tz_aware": True,
}

_FIXTURE_INDEXES = [
    IndexModel([("fixture.timestamp", ASCENDING)], name="kickoff"),
    IndexModel([("fixture.status.short", ASCENDING)], name="status"),
]

INDEXES: dict[str, list[IndexModel]] = {
    FIXTURES_STAGING: _FIXTURE_INDEXES,
    FIXTURES_ACTIVE: _FIXTURE_INDEXES,
    FIXTURES_COMPLETED: _FIXTURE_INDEXES,
    GOALS: [
        IndexModel([("fixture_id", ASCENDING)], name="fixture"),
        IndexModel([("status", ASCENDING)], name="status"),
        IndexModel([("processing_status.completed", ASCENDING)], name="completed"),
    ],
    VIDEOS: [
        IndexModel(
            [("goal_id", ASCENDING), ("source", ASCENDING), ("source_id", ASCENDING)],
            name="goal_source_unique",
            unique=True,
        ),
        IndexModel([("goal_id", ASCENDING), ("state", ASCENDING)], name="goal_state"),
    ],
    CLAIMS: [
        IndexModel(
            [("stage", ASCENDING), ("goal_id", ASCENDING), ("attempt", DESCENDING)],
            name="latest_attempt",
        ),
    ],
}


class StoreError(TransientError):
    """The database refused or could not complete an operation we rely on."""


def as_utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime (a client without ``tz_aware`` reads naive)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def db_name_from_env() -> str:
    return os.environ.get("FOOTY_MONGO_DB", DEFAULT_DB_NAME)


def connect(uri: str | None = None, db_name: str | None = None) -> Database:
    """A database handle from an explicit URI or ``$MONGO_URI`` (outside Airflow).

    Inside Airflow the connection comes from the ``mongo_default`` connection instead.
    """
    uri = uri or os.environ.get("MONGO_URI")
    if not uri:
        raise ConfigError("no MongoDB URI: set MONGO_URI (or use the mongo_default connection)")
    client: MongoClient = MongoClient(uri, **CLIENT_OPTIONS)
    return client[db_name or db_name_from_env()]


def _same_definition(model: IndexModel, existing: dict) -> bool:
    wanted = model.document
    keys = [(field, int(direction)) for field, direction in existing["key"]]
    return keys == list(wanted["key"].items()) and bool(existing.get("unique")) == bool(
        wanted.get("unique")
    )


def ensure_indexes(db: Database) -> None:
    """Create every index explicitly and check it exists as defined; fail loudly otherwise.

    Cheap when everything exists, so it runs once per process before the first write.
    """
    for collection, models in INDEXES.items():
        try:
            present = db[collection].index_information()
            # Only the missing ones: FerretDB 1.24 drops the connection when a createIndexes
            # of several indexes finds them all present.
            missing_models = [m for m in models if m.document["name"] not in present]
            if missing_models:
                try:
                    db[collection].create_indexes(missing_models)
                except AutoReconnect:
                    # Another process created them between our read and our create (the
                    # same FerretDB quirk): what counts is whether they exist now.
                    time.sleep(0.5)
                present = db[collection].index_information()
        except PyMongoError as exc:
            raise StoreError(f"creating indexes on {collection!r} failed: {exc}") from exc
        for model in models:
            name = model.document["name"]
            if name not in present:
                raise StoreError(f"index {name!r} on {collection!r} was not created")
            if not _same_definition(model, present[name]):
                raise StoreError(
                    f"index {name!r} on {collection!r} exists with another definition "
                    f"({present[name]['key']}); drop it so it can be recreated"
                )
