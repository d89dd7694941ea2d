"""Running the real DAG files with ``dag.test()`` against FerretDB and the stand-in server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from footy_airflow.sensors import MongoQuerySensor

ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="session")
def airflow_db():
    """``dag.test()`` needs Airflow's metadata database (SQLite in the test AIRFLOW_HOME)."""
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], check=True,
                   stdout=subprocess.DEVNULL, env=os.environ.copy())


@pytest.fixture
def dags(airflow_db, db, db_name, monkeypatch):
    """The project's DAGs, pointed at this test's database."""
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("FOOTY_MONGO_DB", db_name)
    bag = DagBag(dag_folder=str(ROOT / "dags"))
    assert bag.import_errors == {}
    return bag.dags


@pytest.fixture
def short_sensor_timeouts():
    """``dag.test()`` runs triggers inline; nothing-to-do runs should skip quickly here."""

    def shorten(*dags, seconds: float = 1.0) -> None:
        for dag in dags:
            for task in dag.tasks:
                if isinstance(task, MongoQuerySensor):
                    task.timeout = seconds

    return shorten


@pytest.fixture
def api_football_connection(monkeypatch):
    def point_at(url: str, key: str = "test-key") -> None:
        monkeypatch.setenv("AIRFLOW_CONN_API_FOOTBALL", json.dumps(
            {"conn_type": "http", "host": url, "password": key}))
    return point_at


@pytest.fixture
def asset_events(dags):
    """The extras of the events an Asset received during this test (Airflow's metadata
    database, shared by the tests of one worker)."""
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import func

    with create_session() as session:
        before = session.query(func.max(AssetEvent.id)).scalar() or 0

    def of(name: str) -> list[dict]:
        with create_session() as session:
            rows = (session.query(AssetEvent.extra)
                    .join(AssetModel, AssetModel.id == AssetEvent.asset_id)
                    .filter(AssetModel.name == name, AssetEvent.id > before)
                    .order_by(AssetEvent.id).all())
            return [dict(extra or {}) for (extra,) in rows]

    return of
