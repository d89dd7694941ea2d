"""MongoDB connection glue: the ``mongo_default`` Airflow connection -> a database handle."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote_plus, urlunsplit

from footy.store import ensure_indexes
from footy.store.db import CLIENT_OPTIONS, db_name_from_env

DEFAULT_CONN_ID = "mongo_default"
_INDEXED: set[tuple[str, str]] = set()


def uri_from_connection(conn: Any) -> tuple[str, dict[str, Any]]:
    """URI and client options from an Airflow Connection, by the Mongo provider's rules.

    The trigger cannot use ``MongoHook`` (its constructor fetches the connection with a
    blocking call), so it builds the URI from an asynchronously fetched Connection here.
    """
    extras = dict(conn.extra_dejson or {})
    scheme = "mongodb+srv" if str(extras.pop("srv", False)).lower() == "true" else "mongodb"
    netloc = conn.host or "localhost"
    if conn.login is not None and conn.password is not None:
        netloc = f"{quote_plus(conn.login)}:{quote_plus(conn.password)}@{netloc}"
    if conn.port:
        netloc = f"{netloc}:{conn.port}"
    if str(extras.pop("allow_insecure", False)).lower() == "true":
        extras["tlsAllowInvalidCertificates"] = True
    path = f"/{conn.schema}" if conn.schema else ""
    return urlunsplit((scheme, netloc, path, "", "")), {**CLIENT_OPTIONS, **extras}


def footy_db(conn_id: str = DEFAULT_CONN_ID, db_name: str | None = None):
    """The pipeline database via the provider's ``MongoHook``; indexes ensured once per process."""
    from airflow.providers.mongo.hooks.mongo import MongoHook

    hook = MongoHook(mongo_conn_id=conn_id)
    for key, value in CLIENT_OPTIONS.items():
        hook.extras.setdefault(key, value)
    name = db_name or db_name_from_env()
    db = hook.get_conn()[name]
    if (conn_id, name) not in _INDEXED:
        ensure_indexes(db)
        _INDEXED.add((conn_id, name))
    return db
