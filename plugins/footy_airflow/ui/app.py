"""The Goals page: a FastAPI app the API server mounts at ``/footy``.

Routes (every one needs a signed-in Airflow user; pages redirect to the login, the rest answer
401):

* ``GET goals?day=YYYY-MM-DD``: a match day, its fixtures and their goals (UTC day, default
  today);
* ``GET goals/{goal_id}``: one goal, its clips, publications and re-run buttons;
* ``GET clips/{video_id}``: a stored clip, for the page's video player (byte ranges from a
  local folder; a redirect to a short presigned URL from S3);
* ``GET api/matchday``, ``GET api/goals/{goal_id}``: the same data as JSON;
* ``POST api/goals/{goal_id}/rerun`` ``{"stage": "download"}``: triggers the stage's DAG for
  the goal through Airflow's own REST API, as the signed-in user, so Airflow checks the
  permission and the conf, and the run shows in the grid as usual.

Ids, days and stages from a request are checked against their patterns before they reach a
query; a clip's file comes from its stored key, never from the request.
"""

from __future__ import annotations

import functools
import logging
import re
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
from fastapi import Body, Depends, FastAPI, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from footy.store import matchday
from footy_airflow.params import GOAL_ID_PATTERN
from footy_airflow.ui.access import page_user, signed_in_user, to_login, user_token
from footy_airflow.ui.links import APP_PREFIX

log = logging.getLogger(__name__)

# A stage of a goal -> the DAG whose manual run (conf {"goal_ids": [...]}) redoes it.
RERUN_DAGS = {
    "discover": "scrape_twitter",
    "download": "download_videos",
    "filter": "filter_videos",
    "publish": "publish_clips",
}
_GOAL = GOAL_ID_PATTERN.strip("^$")
VIDEO_ID_PATTERN = rf"^{_GOAL}:[a-z0-9_]{{1,32}}:[A-Za-z0-9_-]{{1,64}}$"
DAY_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
PRESIGN_SECONDS = 300
TRIGGER_TIMEOUT = httpx.Timeout(10.0)



def _goal_id(goal_id: str) -> str:
    return _checked(goal_id, GOAL_ID_PATTERN, "goal id")


GoalId = Annotated[str, Depends(_goal_id)]

templates = Environment(
    loader=FileSystemLoader(Path(__file__).with_name("templates")),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["q"] = lambda value: quote(str(value), safe="")
# a post's address, as a link only when it is a web address (never javascript: and the like)
templates.filters["web"] = lambda url: url if str(url).startswith(("https://", "http://")) else "#"

app = FastAPI(title="footy goals", docs_url=None, redoc_url=None, openapi_url=None)


def _checked(value: str, pattern: str, what: str, status: int = 404) -> str:
    if len(value) > 300 or not re.fullmatch(pattern, value):
        raise HTTPException(status_code=status, detail=f"not a {what}")
    return value


def _day(day: str | None) -> date:
    if not day:
        return datetime.now(UTC).date()
    try:
        return date.fromisoformat(_checked(day, DAY_PATTERN, "day (YYYY-MM-DD)", 422))
    except ValueError:
        raise HTTPException(status_code=422, detail="not a day (YYYY-MM-DD)") from None


@functools.cache
def _db() -> Any:
    from footy_airflow.mongo import footy_db

    return footy_db()  # one client per API server process, reused by every request


@functools.cache
def _storage() -> Any:
    from footy_airflow.storage import clip_storage

    return clip_storage()


def _page(name: str, **values: Any) -> HTMLResponse:
    return HTMLResponse(templates.get_template(name).render(**values))


# ---------------------------------------------------------------------------------- pages


@app.get("/goals", response_class=HTMLResponse)
def match_day_page(request: Request, user: Annotated[Any, Depends(page_user)],
                   day: str | None = Query(None)) -> Response:  # fmt: skip
    if user is None:
        return to_login(request)
    data = matchday.match_day(_db(), _day(day))
    return _page("matchday.html", root="", data=data, user=user.get_name(), stages=RERUN_DAGS)


@app.get("/goals/{goal_id}", response_class=HTMLResponse)
def goal_page(request: Request, goal_id: str,
              user: Annotated[Any, Depends(page_user)]) -> Response:  # fmt: skip
    if user is None:
        return to_login(request)
    _checked(goal_id, GOAL_ID_PATTERN, "goal id")
    data = matchday.goal_page(_db(), goal_id)
    if data is None:
        raise HTTPException(status_code=404, detail="no such goal")
    return _page("goal.html", root="../", data=data, goal=data["goal"], user=user.get_name(),
                 stages=RERUN_DAGS)  # fmt: skip


# ------------------------------------------------------------------------------ clip bytes


@app.get("/clips/{video_id}", dependencies=[Depends(signed_in_user)])
def clip(video_id: str) -> Response:
    _checked(video_id, VIDEO_ID_PATTERN, "clip id")
    found = matchday.kept_clip(_db(), video_id)
    if found is None:
        raise HTTPException(status_code=404, detail="no stored clip with this id")
    storage = _storage()
    shared = storage.share_url(found["key"], PRESIGN_SECONDS)
    if shared:
        return RedirectResponse(shared, status_code=307)
    path = storage.local_path(found["key"])
    if path is None:
        raise HTTPException(status_code=404, detail="the clip's object is missing")
    # Starlette answers Range requests (206) for a FileResponse: the player can seek.
    return FileResponse(path, media_type="video/mp4")


# ------------------------------------------------------------------------------------ JSON


@app.get("/api/matchday", dependencies=[Depends(signed_in_user)])
def match_day_json(day: str | None = Query(None)) -> JSONResponse:
    return JSONResponse(matchday.match_day(_db(), _day(day)))


@app.get("/api/goals/{goal_id}", dependencies=[Depends(signed_in_user)])
def goal_json(goal_id: GoalId) -> JSONResponse:
    data = matchday.goal_page(_db(), goal_id)
    if data is None:
        raise HTTPException(status_code=404, detail="no such goal")
    return JSONResponse(data)


@app.post("/api/goals/{goal_id}/rerun")
def rerun(request: Request, goal_id: GoalId, user: Annotated[Any, Depends(signed_in_user)],
          stage: Annotated[str, Body(embed=True)]) -> JSONResponse:  # fmt: skip
    """Trigger the stage's DAG for this goal through Airflow's REST API, as this user."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise HTTPException(status_code=415, detail="send JSON")  # no cross-site form posts
    dag_id = RERUN_DAGS.get(stage)
    if dag_id is None:
        raise HTTPException(status_code=422, detail=f"stage must be one of {sorted(RERUN_DAGS)}")
    if not matchday.goal_exists(_db(), goal_id):
        raise HTTPException(status_code=404, detail="no such goal")
    api_root = str(request.base_url).rstrip("/").removesuffix(APP_PREFIX)
    try:
        answer = httpx.post(
            f"{api_root}/api/v2/dags/{dag_id}/dagRuns",
            json={"logical_date": None, "conf": {"goal_ids": [goal_id]},
                  "note": f"re-run of {stage} for {goal_id} from the Goals page"},
            headers={"Authorization": f"Bearer {user_token(request)}"},
            timeout=TRIGGER_TIMEOUT,
        )  # fmt: skip
    except httpx.HTTPError as exc:  # no retry: a retried trigger could start two runs
        log.warning("re-run %s for %s: Airflow's API did not answer: %s", dag_id, goal_id, exc)
        raise HTTPException(status_code=502, detail=f"Airflow's API did not answer: {exc}") from exc
    if answer.status_code >= 400:
        detail = answer.json().get("detail") if answer.headers.get(
            "content-type", "").startswith("application/json") else answer.text[:300]
        return JSONResponse({"detail": detail, "dag_id": dag_id}, status_code=answer.status_code)
    run = answer.json()
    log.info("%s re-ran %s for %s: %s", user.get_name(), dag_id, goal_id, run.get("dag_run_id"))
    return JSONResponse({"dag_id": dag_id, "run_id": run.get("dag_run_id"),
                         "state": run.get("state")}, status_code=201)  # fmt: skip
