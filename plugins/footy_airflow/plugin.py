"""footy's Airflow plugin: what the API server needs from the project."""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from footy_airflow.conf_guard import ConfGuard
from footy_airflow.ui.links import APP_PREFIX, NAV_ROUTE, GoalPageLink
from footy_airflow.ui.mount import GoalsApp


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
