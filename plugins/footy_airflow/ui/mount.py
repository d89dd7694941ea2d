"""The Goals page as the API server mounts it, imported on its first request: Airflow loads
plugins in every task process too, and the page's imports belong to the API server only."""

from __future__ import annotations

from typing import Any


class GoalsApp:
    """An ASGI app that hands every request to ``footy_airflow.ui.app.app``."""

    def __init__(self) -> None:
        self._app: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._app is None:
            from footy_airflow.ui.app import app

            self._app = app
        await self._app(scope, receive, send)
