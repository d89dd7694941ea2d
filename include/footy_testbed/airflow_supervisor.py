"""Run Airflow's components as one local stack: loopback only, restarted when they die.

``airflow standalone`` binds its API server and its log servers to every interface (anyone on
the same network could log in and trigger DAGs) and does not restart a component that dies.
This starts the same four components, each its own process:

- the scheduler and the triggerer without their log servers (``--skip-serve-logs``): on one
  machine the API server reads task and trigger logs from ``AIRFLOW_HOME`` directly;
- the dag-processor;
- the API server on 127.0.0.1 only.

The ``distributed`` layout adds a second triggerer and two Celery workers (the executor,
broker and databases come from the environment; see ``scripts/service``).

A component that exits is started again after a back-off (1 s, doubling to 30 s, reset once it
has run for a minute). SIGTERM or SIGINT stops every component, then kills whatever of the
process tree is left (task processes included), so a stop leaves nothing behind. The
components stay in the supervisor's process group, so a stop that signals the group reaches
them even if the supervisor itself is killed.

    python -m footy_testbed.airflow_supervisor --port 8080 --log-dir .footy/log \
        [--layout distributed] [--pids-file .footy/run/airflow-components.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

log = logging.getLogger("footy.supervisor")

HOST = "127.0.0.1"
MIN_BACKOFF, MAX_BACKOFF = 1.0, 30.0
STABLE_AFTER = 60.0  # seconds up after which a component's back-off starts again at 1 s
SCAN_EVERY = 5.0  # seconds between looks at what each component has started
STOP_GRACE = 10.0  # seconds the components get to stop after SIGTERM before SIGKILL


LAYOUTS = ("embedded", "distributed")
DOWNLOADS_QUEUE = "downloads"  # footy_airflow.tasks.download.DOWNLOAD_QUEUE


def components(port: int, layout: str = "embedded") -> dict[str, list[str]]:
    """Airflow CLI arguments per component.

    ``embedded``: the LocalExecutor runs tasks inside the scheduler's process tree.
    ``distributed``: the CeleryExecutor's tasks run on two Celery workers (the first also
    serves the downloads queue), and two triggerers share the deferred sensors, so losing
    either one of a pair loses no work.
    """
    api = ["api-server", "--host", HOST, "--port", str(port)]
    if layout == "embedded":
        return {
            "scheduler": ["scheduler", "--skip-serve-logs"],
            "dag-processor": ["dag-processor"],
            "triggerer": ["triggerer", "--skip-serve-logs"],
            "api-server": api,
        }
    if layout != "distributed":
        raise ValueError(f"layout must be one of {LAYOUTS}, not {layout!r}")
    worker = ["celery", "worker", "--skip-serve-logs", "--without-mingle", "--without-gossip"]
    return {
        "scheduler": ["scheduler", "--skip-serve-logs"],
        "dag-processor": ["dag-processor"],
        "triggerer-1": ["triggerer", "--skip-serve-logs"],
        "triggerer-2": ["triggerer", "--skip-serve-logs"],
        "api-server": api,
        "worker-1": [*worker, "--celery-hostname", "worker-1@%h",
                     "--queues", f"default,{DOWNLOADS_QUEUE}"],
        "worker-2": [*worker, "--celery-hostname", "worker-2@%h", "--queues", "default"],
    }


@dataclass
class Component:
    name: str
    argv: list[str]
    log_path: Path
    process: subprocess.Popen | None = None
    started_at: float = 0.0
    backoff: float = MIN_BACKOFF
    next_start: float = 0.0
    # the processes it started (the scheduler's task workers...), seen while it ran: a
    # component killed with SIGKILL leaves them behind, re-parented away from this tree
    descendants: dict[int, float] = field(default_factory=dict)  # pid -> create time
    scanned_at: float = 0.0

    def start(self, airflow: str) -> None:
        with self.log_path.open("ab") as out:
            self.process = subprocess.Popen([airflow, *self.argv], stdout=out,
                                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.started_at = time.monotonic()
        log.info("%s: started (pid %d, log %s)", self.name, self.process.pid, self.log_path)

    def check(self, airflow: str, now: float) -> None:
        """Start the component again if it exited and its back-off is over."""
        if self.process is not None:
            code = self.process.poll()
            if code is None:
                if now - self.started_at >= STABLE_AFTER:
                    self.backoff = MIN_BACKOFF
                self._remember_descendants()
                return
            self.process = None
            left = self.reap()
            if left:
                log.warning("%s: killed %d process(es) it left behind", self.name, left)
            self.next_start = now + self.backoff
            log.warning("%s: exited with %s; starting it again in %.0fs", self.name, code,
                        self.backoff)  # fmt: skip
            self.backoff = min(MAX_BACKOFF, self.backoff * 2)
            return
        if now >= self.next_start:
            self.start(airflow)

    def _remember_descendants(self) -> None:
        if time.monotonic() - self.scanned_at < SCAN_EVERY:
            return
        self.scanned_at = time.monotonic()
        try:
            for proc in psutil.Process(self.process.pid).children(recursive=True):
                with contextlib.suppress(psutil.Error):
                    self.descendants.setdefault(proc.pid, proc.create_time())
        except psutil.Error:
            pass

    def reap(self) -> int:
        """Kill what is left of the processes this component started; how many there were."""
        left = []
        for pid, created in self.descendants.items():
            with contextlib.suppress(psutil.Error):
                proc = psutil.Process(pid)
                if proc.create_time() == created:  # not a new process that reused the pid
                    proc.kill()
                    left.append(proc)
        psutil.wait_procs(left, timeout=5)
        self.descendants.clear()
        return len(left)

    def terminate(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()


class Supervisor:
    def __init__(self, port: int, log_dir: Path, airflow: str, layout: str = "embedded",
                 pids_file: Path | None = None) -> None:  # fmt: skip
        log_dir.mkdir(parents=True, exist_ok=True)
        self.airflow = airflow
        self.components = [Component(name, argv, log_dir / f"airflow-{name}.log")
                           for name, argv in components(port, layout).items()]  # fmt: skip
        self.pids_file = pids_file
        self.stopping = False

    def run(self) -> int:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._stop)
        for component in self.components:
            component.start(self.airflow)
        self._write_pids()
        while not self.stopping:
            now = time.monotonic()
            for component in self.components:
                running = component.process
                component.check(self.airflow, now)
                if component.process is not running:
                    self._write_pids()
            time.sleep(0.5)
        self.shutdown()
        return 0

    def _write_pids(self) -> None:
        """Each component's current pid, for tools that must find one (tests kill them)."""
        if self.pids_file is None:
            return
        pids = {c.name: c.process.pid for c in self.components if c.process is not None}
        partial = self.pids_file.with_suffix(".tmp")
        partial.write_text(json.dumps(pids))
        partial.replace(self.pids_file)  # readers never see half a file

    def _stop(self, signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        self.stopping = True

    def shutdown(self) -> None:
        for component in self.components:
            component.terminate()
        deadline = time.monotonic() + STOP_GRACE
        for component in self.components:
            if component.process is None:
                continue
            try:
                component.process.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("%s: still running after %.0fs; killed", component.name,
                            STOP_GRACE)  # fmt: skip
        left = psutil.Process().children(recursive=True)  # task processes, stuck components
        for proc in left:
            with contextlib.suppress(psutil.Error):
                proc.kill()
        psutil.wait_procs(left, timeout=5)
        orphans = sum(component.reap() for component in self.components)
        killed = len(left) + orphans
        log.info("stopped%s", f" ({killed} process(es) killed)" if killed else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=int(os.environ.get("FOOTY_AIRFLOW_PORT",
                                                                        "8080")))
    parser.add_argument("--log-dir", type=Path, default=Path("."))
    parser.add_argument("--layout", choices=LAYOUTS, default="embedded")
    parser.add_argument("--pids-file", type=Path, help="JSON {component: pid}, kept current")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stdout,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    airflow = str(Path(sys.executable).with_name("airflow"))
    return Supervisor(args.port, args.log_dir, airflow, args.layout, args.pids_file).run()


if __name__ == "__main__":
    raise SystemExit(main())
