"""The manual-run conf contract at `dag.test()`: undeclared keys, the spec's aliases, ids."""

from __future__ import annotations

import jsonschema
import pytest

from footy.store import GOALS, VIDEOS
from footy_airflow.params import FIXTURE_ID_SCHEMA

pytestmark = pytest.mark.integration

GOAL = "2001_50_1100_normal_1"
GOAL_DAGS = ["scrape_twitter", "download_videos", "filter_videos", "goal_processing_pipeline"]


def test_an_undeclared_key_fails_the_first_task_naming_it_and_changes_nothing(dags, db, capfd):
    db[GOALS].insert_one({"_id": GOAL, "status": "confirmed"})
    run = dags["download_videos"].test(run_conf={"goalid": GOAL})
    states = {ti.task_id: ti.state for ti in run.get_task_instances()}
    assert states["select_goals"] == "failed"
    assert "success" not in states.values()
    assert run.state == "failed"
    out, err = capfd.readouterr()
    assert "conf key(s) 'goalid' not accepted" in out + err
    assert "goal_id, goal_ids" in out + err  # and the keys it does accept
    assert list(db[GOALS].find()) == [{"_id": GOAL, "status": "confirmed"}]
    assert db[VIDEOS].count_documents({}) == 0


@pytest.mark.parametrize("dag_id", GOAL_DAGS)
def test_every_goal_stage_declares_the_specs_goal_id(dags, dag_id):
    params = dags[dag_id].params
    assert {"goal_ids", "goal_id"} <= set(params.keys())


@pytest.mark.parametrize("conf", [
    {"goal_ids": ["$where"]},
    {"goal_ids": [{"$ne": ""}]},
    {"goal_ids": ["2001_50_1100_normal_1.x"]},
    {"goal_id": "processing_status.completed"},
    {"goal_id": ""},
])  # fmt: skip
def test_operators_and_non_ids_are_refused_before_a_run(dags, conf):
    from airflow.sdk.exceptions import ParamValidationError

    with pytest.raises(ParamValidationError):
        dags["filter_videos"].test(run_conf=conf)


def test_the_specs_process_goals_fixture_id_may_be_a_string():
    for ok in (None, 1379344, "1379344"):
        jsonschema.validate(ok, FIXTURE_ID_SCHEMA)
    for bad in ("", "12a", "0", 0, {"$gt": 0}, "1" * 30):
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(bad, FIXTURE_ID_SCHEMA)


@pytest.fixture
def alerts_receiver():
    """A local JSON webhook receiver (Apprise's ``json://``): records every POST body."""
    import json
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - http.server's interface
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            received.append({"path": self.path, **json.loads(body)})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    server.received = received
    yield server
    server.shutdown()


def test_a_failed_run_is_announced_once_when_alerts_are_configured(dags, db, alerts_receiver,
                                                                   monkeypatch):
    import json

    # Off by default: no connection, no message, no error.
    dags["download_videos"].test(run_conf={"goalid": GOAL})
    assert alerts_receiver.received == []

    port = alerts_receiver.server_address[1]
    monkeypatch.setenv("AIRFLOW_CONN_FOOTY_ALERTS", json.dumps(
        {"conn_type": "apprise", "extra": {"config": {"path": f"json://127.0.0.1:{port}/alerts"}}}))
    run = dags["download_videos"].test(run_conf={"goalid": GOAL})
    assert run.state == "failed"
    [message] = alerts_receiver.received
    assert message["path"] == "/alerts"
    assert message["title"] == "footy: download_videos failed"
    assert run.run_id in message["message"] and "select_goals" in message["message"]
