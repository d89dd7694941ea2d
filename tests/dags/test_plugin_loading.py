"""How Airflow loads footy's plugin: from plugin.py alone, in every process that loads plugins."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PLUGINS = Path(__file__).resolve().parents[2] / "plugins"


def test_the_plugin_loader_executes_plugin_py_only():
    # Every task process loads plugins. Without plugins/.airflowignore the loader executed all
    # of footy_airflow's files as modules of their own (the Goals app's FastAPI routes
    # included): about a sixth of a task process's CPU in the burst benchmark.
    from airflow._shared.plugins_manager.plugins_manager import (
        _load_plugins_from_plugin_directory,
    )
    from airflow.configuration import conf

    def executed_by_the_loader() -> dict[str, str]:
        # the loader names a module after its file ("plugin", "app", "sensors", ...)
        return {name: module.__file__ for name, module in list(sys.modules.items())
                if getattr(module, "__file__", None) and not name.startswith("footy_airflow")
                and Path(module.__file__).is_relative_to(PLUGINS)}  # fmt: skip

    for name in executed_by_the_loader():  # left by an earlier load in this process
        del sys.modules[name]
    plugins, errors = _load_plugins_from_plugin_directory(
        str(PLUGINS), ignore_file_syntax=conf.get("core", "dag_ignore_file_syntax"))
    assert errors == {}
    assert [p.name for p in plugins] == ["footy"]
    assert executed_by_the_loader() == {"plugin": str(PLUGINS / "footy_airflow" / "plugin.py")}


def test_loading_the_plugin_imports_the_task_code_that_task_processes_inherit():
    # Run in a fresh interpreter: this test process may have imported them already.
    probe = (
        "import sys\n"
        "from airflow._shared.plugins_manager.plugins_manager import "
        "_load_plugins_from_plugin_directory\n"
        f"_load_plugins_from_plugin_directory({str(PLUGINS)!r})\n"
        "print(' '.join(m for m in ('cv2', 'yt_dlp', 'footy.pipeline.download',\n"
        "    'footy.dedup.fingerprint', 'footy_airflow.tasks.filter') if m in sys.modules))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(PLUGINS), str(PLUGINS.parent / "include"), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True,
                         check=True, timeout=120).stdout.splitlines()[-1].split()  # warnings first
    assert out == ["cv2", "yt_dlp", "footy.pipeline.download", "footy.dedup.fingerprint",
                   "footy_airflow.tasks.filter"]
