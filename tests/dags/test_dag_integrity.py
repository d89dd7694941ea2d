"""Every DAG file: imports cleanly, does no work at import, and follows the house rules."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

DAGS = Path(__file__).resolve().parents[2] / "dags"
EXPECTED = {
    "ingest_fixtures", "advance_fixtures", "monitor_fixtures", "process_goals",
    "scrape_twitter", "download_videos", "filter_videos", "goal_processing_pipeline", "cleanup",
    "publish_clips",
}


@pytest.fixture(scope="module")
def dagbag():
    from airflow.dag_processing.dagbag import DagBag

    real_connect = socket.socket.connect

    def refuse(self, address):  # any database or network access at import time
        raise AssertionError(f"DAG import tried to connect to {address}")

    socket.socket.connect = refuse
    try:
        return DagBag(dag_folder=str(DAGS))
    finally:
        socket.socket.connect = real_connect


def test_every_dag_file_imports_without_errors_or_io(dagbag):
    assert dagbag.import_errors == {}
    files = {Path(d.fileloc).name for d in dagbag.dags.values()}
    assert files == {p.name for p in DAGS.glob("*.py")}, "one DAG per file"


def test_the_pipeline_dags_are_present(dagbag):
    assert EXPECTED <= set(dagbag.dags)


@pytest.mark.parametrize("dag_id", sorted(EXPECTED))
def test_house_rules(dagbag, dag_id):
    dag = dagbag.dags[dag_id]
    assert dag.is_paused_upon_creation is True
    assert dag.tags and "footy" in dag.tags
    assert dag.doc_md and dag_id in dag.doc_md
    assert dag.catchup is False
    for t in dag.tasks:
        assert t.owner == "footy", t.task_id
        assert t.retries >= 1, f"{t.task_id} has no retries"
        if "Sensor" in type(t).__name__:
            assert t.deferrable is True and t.timeout > 0, t.task_id
