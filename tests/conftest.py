"""Shared fixtures: the real services the integration tests run against.

MongoDB: ``$MONGO_URI`` when set, else the project's FerretDB (started here if needed).
Every test that asks for ``db`` gets a fresh database, dropped afterwards.
"""

from __future__ import annotations

import os
import socket
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pymongo.database import Database

from footy.store import connect, ensure_indexes
from footy_testbed.services import local_ferretdb_uri

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
        uri = local_ferretdb_uri()
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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class PrivateFerretDB:
    """A FerretDB of one test's own: its own port and data folder, for tests that stop it
    or lock its files. ``start()`` again after ``stop()`` serves the same data."""

    data: Path
    sqlite_params: str = ""
    port: int = field(default_factory=_free_port)
    proc: subprocess.Popen | None = None

    @property
    def uri(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/"

    def sqlite_file(self, db_name: str) -> Path:
        return self.data / f"{db_name}.sqlite"

    def start(self) -> PrivateFerretDB:
        self.data.mkdir(parents=True, exist_ok=True)
        query = f"?{self.sqlite_params}" if self.sqlite_params else ""
        self.proc = subprocess.Popen(
            [str(ROOT / ".footy" / "bin" / "ferretdb"), "--handler=sqlite",
             f"--sqlite-url=file:{self.data}/{query}", f"--state-dir={self.data}",
             f"--listen-addr=127.0.0.1:{self.port}", "--debug-addr=127.0.0.1:0",
             "--telemetry=disable", "--log-level=ERROR"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("the private FerretDB did not start")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


@pytest.fixture
def private_ferretdb(
    tmp_path: Path, mongo_uri: str
) -> Iterator[Callable[..., PrivateFerretDB]]:
    """Start FerretDBs of the test's own (skipped when tests run against ``$MONGO_URI``).
    ``mongo_uri`` is asked for because starting the project's FerretDB builds the binary."""
    if os.environ.get("MONGO_URI"):
        pytest.skip("needs a FerretDB of its own")
    started: list[PrivateFerretDB] = []

    def start(sqlite_params: str = "") -> PrivateFerretDB:
        server = PrivateFerretDB(tmp_path / f"ferretdb{len(started)}", sqlite_params)
        started.append(server.start())
        return server

    yield start
    for server in started:
        server.stop()


# Under ``pytest -n 2 --dist loadgroup`` (make test), tests that share expensive or exclusive
# state run on one worker: the DAG tests share Airflow's SQLite metadata database, each dedup
# module renders and fingerprints its clip set once per worker, and the end-to-end run has a
# worker of its own to wait on its match day's clock while the rest of the suite runs.
XDIST_GROUPS = {
    "tests/e2e/": "e2e",
    "tests/integration/dags/": "airflow-metadata-db",
    "tests/integration/test_dedup.py": "dedup-labeled-set",
    "tests/integration/test_dedup_reuploads.py": "dedup-reuploads",
}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        path = Path(str(item.path)).relative_to(ROOT).as_posix()
        for prefix, group in XDIST_GROUPS.items():
            if path.startswith(prefix):
                item.add_marker(pytest.mark.xdist_group(group))


# Figures a test reports for the log (the e2e runs' per-goal latency): a test records them
# with ``record_property("figures", line)``; they are printed at the end of the session, also
# from xdist workers, whose own output pytest does not show for a passing test.
_FIGURES: list[str] = []


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.when == "call":
        _FIGURES.extend(str(value) for key, value in report.user_properties if key == "figures")


def pytest_terminal_summary(terminalreporter) -> None:
    if _FIGURES:
        terminalreporter.section("figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
