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


def test_queued_work_nearest_a_kept_clip_runs_first(dagbag):
    """Executor slots go to the live poll, then the later stages: a goal in flight is not
    held back by the first tasks of new runs (Airflow's default weights do the opposite)."""
    def weight(dag_id: str, task_id: str) -> int:
        task = dagbag.dags[dag_id].get_task(task_id)
        assert task.weight_rule == "absolute", (dag_id, task_id)
        return task.priority_weight

    chain = [weight("monitor_fixtures", "poll_active_fixtures"),
             weight("process_goals", "process_fixture"),
             weight("filter_videos", "filter_goal"),
             weight("download_videos", "download_goal"),
             weight("scrape_twitter", "search_goal"),
             weight("ingest_fixtures", "ingest_day")]
    assert chain == sorted(chain, reverse=True) and len(set(chain)) == len(chain)
    # every task of a DAG shares its DAG's place: a run's first task is not ahead of its work
    for dag_id in EXPECTED:
        assert len({t.priority_weight for t in dagbag.dags[dag_id].tasks}) == 1, dag_id


def test_no_task_unrolls_its_result_into_an_xcom_per_key(dagbag):
    """Airflow infers ``multiple_outputs`` from a ``-> dict`` annotation and then writes every
    key of the result as an XCom of its own: sixteen Execution API writes for one goal's
    summary instead of one, and nothing reads them."""
    unrolled = sorted(f"{dag.dag_id}.{t.task_id}" for dag in dagbag.dags.values()
                      for t in dag.tasks if _multiple_outputs(t))  # fmt: skip
    assert unrolled == []


def _multiple_outputs(task) -> bool:
    if hasattr(task, "partial_kwargs"):  # a mapped task
        return bool(task.partial_kwargs.get("multiple_outputs")
                    or getattr(task, "multiple_outputs", False))
    return bool(getattr(task, "multiple_outputs", False))
