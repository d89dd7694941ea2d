"""footy's Airflow plugin: what the API server needs from the project."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from footy_airflow.conf_guard import ConfGuard


class FootyPlugin(AirflowPlugin):
    name = "footy"
    fastapi_root_middlewares = [  # noqa: RUF012 - Airflow's plugin interface
        {"middleware": ConfGuard, "name": "footy: refuse undeclared conf keys"},
    ]
