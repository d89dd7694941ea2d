"""footy's Airflow plugin: what the API server needs from the project, and the task code
every task process would otherwise import for itself."""

from __future__ import annotations

import importlib

from airflow.plugins_manager import AirflowPlugin

from footy_airflow.conf_guard import ConfGuard
from footy_airflow.ui.links import APP_PREFIX, NAV_ROUTE, GoalPageLink
from footy_airflow.ui.mount import GoalsApp

# A task process is forked from the process that runs the executor (the scheduler for the
# LocalExecutor), which loads this plugin before it starts: task code imported here (the
# stages, OpenCV, yt-dlp) is inherited by every task process instead of imported by each
# (0.6 s of CPU per task process). In a task process these imports find the modules loaded.
TASK_MODULES = (
    "footy_airflow.sensors",
    "footy_airflow.tasks.cleanup",
    "footy_airflow.tasks.discover",
    "footy_airflow.tasks.download",
    "footy_airflow.tasks.filter",
    "footy_airflow.tasks.fixtures",
    "footy_airflow.tasks.pipeline",
    "footy_airflow.tasks.publish",
)
for module in TASK_MODULES:
    importlib.import_module(module)


class FootyPlugin(AirflowPlugin):
    name = "footy"
    fastapi_root_middlewares = [  # noqa: RUF012 - Airflow's plugin interface
        {"middleware": ConfGuard, "name": "footy: refuse undeclared conf keys"},
    ]
    fastapi_apps = [  # noqa: RUF012
        {"app": GoalsApp(), "url_prefix": APP_PREFIX, "name": "footy goals"},
    ]
    external_views = [  # noqa: RUF012
        {"name": "Goals", "href": f"{APP_PREFIX}/goals", "url_route": NAV_ROUTE,
         "destination": "nav", "nav_top_level": True},
    ]
    global_operator_extra_links = [GoalPageLink()]  # noqa: RUF012
