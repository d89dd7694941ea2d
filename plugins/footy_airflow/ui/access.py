"""Who may see the Goals page: any signed-in Airflow user, checked by Airflow's own auth
manager on every request (plugin routes are not protected by Airflow by themselves)."""

from __future__ import annotations

from typing import Any

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN
from airflow.api_fastapi.core_api.security import resolve_user_from_token
from fastapi import HTTPException, Request
from fastapi.responses import RedirectResponse


def user_token(request: Request) -> str | None:
    """The caller's Airflow token: a bearer header, else the UI's session cookie."""
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip() or None
    return request.cookies.get(COOKIE_NAME_JWT_TOKEN) or None


async def signed_in_user(request: Request) -> Any:
    """Dependency: the signed-in user, or 401 (403 for a token Airflow did not issue)."""
    return await resolve_user_from_token(user_token(request))


async def page_user(request: Request) -> Any | None:
    """Dependency for pages: the signed-in user, or None (the page then sends to the login)."""
    try:
        return await resolve_user_from_token(user_token(request))
    except HTTPException:
        return None


def to_login(request: Request) -> RedirectResponse:
    """Airflow's login, coming back to this page afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(get_auth_manager().get_url_login(next_url=here), status_code=302)
