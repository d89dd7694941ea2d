"""The embedded layout's executor preloads footy's task code for its task processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from footy_airflow.executor import PRELOADED, preload

pytestmark = pytest.mark.integration


def test_every_preloaded_module_exists():
    # a module renamed or moved would silently stop being preloaded
    assert preload() == list(PRELOADED)


def test_a_module_that_fails_to_import_is_left_to_the_task():
    assert preload(("footy.no_such_module", "footy.goals")) == ["footy.goals"]


def test_a_forked_worker_finds_the_task_code_imported():
    """What a task process inherits: a fresh interpreter preloads and forks; the child finds
    the modules its DAG file imports already loaded."""
    script = """
import os, sys
from footy_airflow.executor import preload
preload()
pid = os.fork()
if pid == 0:
    heavy = ("cv2", "numpy", "yt_dlp", "pymongo", "footy_airflow.tasks.filter")
    os._exit(0 if all(m in sys.modules for m in heavy) else 1)
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    assert subprocess.run([sys.executable, "-c", script], env=env, timeout=120).returncode == 0
