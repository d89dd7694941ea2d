"""Tasks of clip discovery (scrape_twitter): pick goals, search each, announce candidates."""

from __future__ import annotations

import dataclasses
import logging
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import get_current_context, task
from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

from footy.errors import PermanentError
from footy.pipeline.discover import DiscoveryConfig, discover_goal, goals_still_due
from footy.store import selection
from footy.store.discovery import due_goal_ids, goal_label
from footy.store.status import Stage
from footy_airflow.assets import CLIP_CANDIDATES, HANDOFFS, SEARCHES_PENDING, hand_off
from footy_airflow.connections import enabled_sources, json_variable
from footy_airflow.mongo import footy_db
from footy_airflow.params import requested_goal_ids
from footy_airflow.ui.links import name_goal_instance, records_goal

log = logging.getLogger(__name__)

DISCOVERY_VARIABLE = "footy_discovery"
SELECT_TASK_ID = "goals_to_search"
# Goals one scrape_twitter run searches at most: it announces its candidates once all of them
# are searched, so a smaller run hands new clips on sooner; the next run takes the rest.
SEARCH_RUN_LIMIT = 50


def _now() -> datetime:
    return datetime.now(UTC)


def goals_to_search(context: Any, found: list[Any] | None = None) -> list[str]:
    """The conf's goals; otherwise those of the sensor's that are still due and not being
    searched by another run, in order, marked as this run's."""
    requested = requested_goal_ids(context.get("params"))
    if requested:
        return requested
    db, now = footy_db(), _now()
    still_due = goals_still_due(db, list(dict.fromkeys(found or [])), now)
    selection.select(db, Stage.DISCOVER, still_due, context.get("run_id") or "", now)
    log.info("%d goal(s) due, %d of them to search in this run", len(found or []),
             len(still_due))  # fmt: skip
    if not still_due:  # the grid tells the truth: a run with nothing to search is skipped
        raise AirflowSkipException("every due goal is being searched by another run")
    return still_due


@task(map_index_template="{{ goal_label }}", multiple_outputs=False)
@records_goal
def search_goal(
    goal_id: str, final: bool = False, params: dict[str, Any] | None = None
) -> dict[str, Any]:
    """One search attempt for one goal, under an exclusive claim on the goal. ``final``
    (goal_processing_pipeline) searches now, due or not, and ends the window after it."""
    params = params or {}
    context = get_current_context()
    db = footy_db()
    name_goal_instance(context, goal_label(db, goal_id))
    manual = bool(requested_goal_ids(params)) or final
    ti = context["ti"]
    owner = f"{ti.dag_id}/{ti.run_id}/{ti.map_index}"
    try:
        cfg = DiscoveryConfig.from_dict(json_variable(DISCOVERY_VARIABLE, {}))
        if final:  # this attempt is the window's last, whatever it finds
            cfg = dataclasses.replace(cfg, attempts=1)
        sources, credentials = enabled_sources(cfg.sources)
        result = discover_goal(db, sources, goal_id, owner=owner, now=_now(), cfg=cfg,
                               due_only=not manual, force=manual and bool(params.get("force")),
                               credentials=credentials)  # fmt: skip
    except PermanentError as exc:
        # Bad settings fail every goal alike: fail loudly, without retries. Rejected
        # credentials fail the first goal that meets them; they pause the source, and later
        # goals are skipped, naming the pause, until the connection changes.
        raise AirflowFailException(f"{goal_id}: {type(exc).__name__}: {exc}") from exc
    finally:
        selection.release(db, Stage.DISCOVER, goal_id, ti.run_id)
    if result["status"] == "skipped":
        raise AirflowSkipException(f"{result['label']}: {result['reason']}")
    log.info("%s: %s", result["label"], {k: v for k, v in result.items() if k != "label"})
    return result


# After every search, when at least one searched: one goal's failure must not hide the
# others' results, and a run whose goals were all skipped starts no process to say so.
@task(outlets=[HANDOFFS], trigger_rule="all_done_min_one_success", multiple_outputs=False)
def announce_search_results(
    results: list[dict[str, Any]] | None, chosen: list[str] | None = None
) -> dict[str, Any]:
    """Hands on what this run's searches found, each event only when it has goals:

    - to download_videos (``footy_clip_candidates``): new candidate clips, and goals whose
      search window just ended (a finished window with nothing new still wakes the download
      stage, which then marks the goal downloaded at once);
    - to scrape_twitter itself (``footy_searches_pending``): goals whose window goes on; the
      next run's sensor waits until their next attempt is due. Also, when this run took as
      many goals as a run may (``SEARCH_RUN_LIMIT``), the due goals it had to leave: the next
      run takes them at once instead of their waiting for the stage's watcher.
    """
    results = [r for r in results or [] if r]
    news = [r for r in results if r.get("new_candidates") or r.get("finished")]
    candidates = {
        "goal_ids": sorted({r["goal_id"] for r in news}),
        "video_ids": sorted({v for r in news for v in r.get("new_candidates") or []}),
    }
    pending = {r["goal_id"] for r in results
               if r.get("status") != "skipped" and not r.get("finished")}
    if len(chosen or []) >= SEARCH_RUN_LIMIT:  # a full run: goals may have been left over
        pending |= set(due_goal_ids(footy_db(), _now(), limit=SEARCH_RUN_LIMIT))
    pending = sorted(pending)
    if not (news or pending):
        raise AirflowSkipException("no new candidate clips, no search window ended or goes on")
    if news:
        hand_off(CLIP_CANDIDATES, candidates)
    if pending:
        hand_off(SEARCHES_PENDING, {"goal_ids": pending})
    return {"candidates": candidates if news else None, "searches_pending": pending}
