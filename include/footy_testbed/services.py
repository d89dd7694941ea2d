"""Drive a local stack (scripts/service + Airflow's REST API) from Python.

Used by ``make run``, the end-to-end test and the load benchmark: the same start-up a user
gets, with no Airflow import (plain subprocesses and HTTP).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import psutil
import requests
from tenacity import retry, retry_if_exception, stop_after_attempt, wait_exponential

ROOT = Path(__file__).resolve().parents[2]
COMPONENT_PIDS = "airflow-components.json"  # written by footy_testbed.airflow_supervisor
STAGE_DAGS = ["ingest_fixtures", "advance_fixtures", "monitor_fixtures", "process_goals",
              "scrape_twitter", "download_videos", "filter_videos", "publish_clips"]


class StackError(RuntimeError):
    pass


def local_ferretdb_uri() -> str:
    """Where ``scripts/service`` runs the project's own FerretDB (loopback, its port from
    ``FOOTY_FERRETDB_PORT`` as the script reads it)."""
    return f"mongodb://127.0.0.1:{os.environ.get('FOOTY_FERRETDB_PORT', '27117')}/"


def project_mongo_uri() -> str:
    """``$MONGO_URI``, else the project's own FerretDB (started when it is not running)."""
    uri = os.environ.get("MONGO_URI")
    if uri:
        return uri
    subprocess.run([str(ROOT / "scripts" / "service"), "start", "ferretdb"], check=True)
    return local_ferretdb_uri()


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, requests.HTTPError):
        return exc.response is not None and exc.response.status_code >= 500
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


class ServiceStack:
    def __init__(self, env: dict[str, str], *, username: str = "admin",
                 password: str = "admin") -> None:
        self.env = env
        self.api = f"http://127.0.0.1:{env.get('FOOTY_AIRFLOW_PORT', '8080')}"
        self._login = {"username": username, "password": password}
        self._token: str | None = None
        self.started: list[str] = []

    # ---- services ------------------------------------------------------------------------

    def start(self, name: str) -> None:
        """Start a service; remember it only if this call started it (stop() stops those)."""
        out = self._run(str(ROOT / "scripts" / "service"), "start", name, timeout=400)
        print(out.strip(), flush=True)
        if f"{name}: already running" not in out and f"{name}: skipped" not in out:
            self.started.append(name)

    def stop(self) -> None:
        for name in reversed(self.started):
            print(self._run(str(ROOT / "scripts" / "service"), "stop", name,
                            timeout=120, check=False).strip(), flush=True)
        self.started.clear()

    def processes(self, name: str) -> list[psutil.Process]:
        """The running processes of a service this stack started: its own and its children."""
        pidfile = Path(self.env.get("FOOTY_STATE_DIR", ROOT / ".footy")) / "run" / f"{name}.pid"
        try:
            root = psutil.Process(int(pidfile.read_text()))
            return [root, *root.children(recursive=True)]
        except (OSError, ValueError, psutil.Error):
            return []

    def components(self) -> dict[str, psutil.Process]:
        """The running Airflow components by name (``scheduler``, ``triggerer``, ...)."""
        pids = Path(self.env.get("FOOTY_STATE_DIR", ROOT / ".footy")) / "run" / COMPONENT_PIDS
        try:
            named = json.loads(pids.read_text())
        except (OSError, ValueError):
            return {}
        running = {}
        for name, pid in named.items():
            try:
                proc = psutil.Process(pid)
                if proc.status() != psutil.STATUS_ZOMBIE:
                    running[name] = proc
            except psutil.Error:
                continue
        return running

    def component(self, name: str) -> psutil.Process | None:
        return self.components().get(name)

    def listening(self) -> list[tuple[str, str, int]]:
        """(process name, address, port) of every socket the stack's processes listen on."""
        found = []
        for name in self.started:
            for proc in self.processes(name):
                try:
                    found += [(proc.name(), c.laddr.ip, c.laddr.port)
                              for c in proc.net_connections(kind="inet")
                              if c.status == psutil.CONN_LISTEN]
                except psutil.Error:
                    continue
        return found

    def cli(self, *args: str) -> str:
        """The Airflow CLI with this stack's environment."""
        return self._run(str(ROOT / "scripts" / "airflow"), *args, timeout=180)

    def _run(self, *args: str, timeout: float, check: bool = True) -> str:
        result = subprocess.run(list(args), env=self.env, capture_output=True, text=True,
                                timeout=timeout)
        if check and result.returncode:
            raise StackError(f"{' '.join(args[:3])} failed:\n{result.stdout}\n{result.stderr}")
        return result.stdout

    # ---- REST API ------------------------------------------------------------------------

    @retry(
        retry=retry_if_exception(_is_transient),
        stop=stop_after_attempt(5),
        wait=wait_exponential(multiplier=0.5, max=8),
        reraise=True,
    )
    def call(self, method: str, path: str, **kw: Any) -> Any:
        """One REST call; 5xx and connection errors (SQLite "database is locked" on a busy
        standalone) are retried with backoff."""
        if self._token is None:
            reply = requests.post(f"{self.api}/auth/token", json=self._login, timeout=10)
            reply.raise_for_status()
            self._token = reply.json()["access_token"]
        response = requests.request(method, f"{self.api}/api/v2{path}", timeout=30,
                                    headers={"Authorization": f"Bearer {self._token}"}, **kw)
        response.raise_for_status()
        return response.json()

    def wait_for_dags(self, dag_ids: list[str] = STAGE_DAGS, limit: float = 300) -> None:
        """Until the API server lists every DAG, with no import error."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            try:
                listed = {d["dag_id"] for d in self.call("GET", "/dags?limit=100")["dags"]}
                if set(dag_ids) <= listed:
                    errors = self.call("GET", "/importErrors")
                    if errors["total_entries"]:
                        raise StackError(f"DAG import errors: {json.dumps(errors)[:2000]}")
                    return
            except requests.RequestException:
                pass
            time.sleep(3)
        raise StackError("the API server did not list the DAGs in time")

    def unpause(self, dag_ids: list[str] = STAGE_DAGS) -> None:
        for dag_id in dag_ids:
            self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    def pause(self, dag_ids: list[str]) -> None:
        for dag_id in dag_ids:
            self.call("PATCH", f"/dags/{dag_id}", json={"is_paused": True})

    def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> str:
        run = self.call("POST", f"/dags/{dag_id}/dagRuns",
                        json={"logical_date": None, "conf": conf or {}})
        return run["dag_run_id"]

    def run_count(self, dag_id: str) -> int:
        """How many runs the DAG has, of any type and state."""
        return self.call("GET", f"/dags/{dag_id}/dagRuns?limit=1")["total_entries"]

    def wait_for_runs(self, runs: dict[str, str], limit: float) -> dict[str, str]:
        deadline, states = time.monotonic() + limit, {}
        while time.monotonic() < deadline:
            states = {d: self.call("GET", f"/dags/{d}/dagRuns/{r}")["state"]
                      for d, r in runs.items()}
            if all(s in {"success", "failed"} for s in states.values()):
                return states
            time.sleep(5)
        raise StackError(f"runs did not finish: {states}")
