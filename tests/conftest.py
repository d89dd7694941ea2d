"""Shared fixtures: the real services the integration tests run against.

MongoDB: ``$MONGO_URI`` when set, else the project's FerretDB (started here if needed).
Every test that asks for ``db`` gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo.database import Database

from footy.store import connect, ensure_indexes

ROOT = Path(__file__).resolve().parent.parent

# Airflow reads its configuration at import: point it at a throw-away home before any import.
os.environ.setdefault("AIRFLOW_HOME", str(ROOT / ".footy" / "airflow-test"))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__PLUGINS_FOLDER", str(ROOT / "plugins"))


@pytest.fixture(scope="session")
def mongo_uri() -> str:
    uri = os.environ.get("MONGO_URI")
    if not uri:
        subprocess.run([str(ROOT / "scripts" / "service"), "start", "ferretdb"], check=True)
        uri = f"mongodb://127.0.0.1:{os.environ.get('FOOTY_FERRETDB_PORT', '27117')}/"
    # Airflow code under test (sensors, triggers) finds the database through mongo_default.
    os.environ["AIRFLOW_CONN_MONGO_DEFAULT"] = uri.replace("mongodb://", "mongo://", 1)
    return uri


@pytest.fixture
def db_name() -> str:
    return f"footy_test_{uuid.uuid4().hex[:10]}"


@pytest.fixture
def db(mongo_uri: str, db_name: str) -> Iterator[Database]:
    database = connect(mongo_uri, db_name)
    ensure_indexes(database)
    yield database
    database.client.drop_database(db_name)
    database.client.close()
