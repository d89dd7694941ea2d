"""
### scrape_twitter

Clip discovery, on every enabled source: X (recent search) and r/soccer on Reddit. For every
confirmed goal whose next search is due (`processing_status.search.next_at`), one mapped
task instance, named by the goal ("E. Haaland 11' Manchester City v Arsenal"), claims the
goal, asks each source for posts newer than its last attempt, and stores each post in
`videos`: `candidate` when it passes the metadata gates, `rejected` with `reject_reasons`
otherwise. Reddit posts count only when their title announces this goal (teams, score after
the goal, minute and scorer, r/soccer's `Home [1] - 0 Away - Scorer 23'`). Each source keeps
its own state on the goal (`processing_status.search.sources.<name>`): one that is rate
limited or failing does not hold the others back. A goal is searched up to 10 times about a
minute apart, or until 10 clips were accepted; then `processing_status.twitter_scraped`
becomes true. New candidates are announced on the `footy_clip_candidates` Asset
(`{"goal_ids": [...], "video_ids": [...]}`) for download, where the clips of all sources are
deduplicated together.

Runs on `footy_confirmed_goals` events, on its own `footy_searches_pending` events (a goal
whose window goes on: the new run's deferred sensor wakes when the next attempt is due) and
when its watcher finds a due goal no run picked up (`footy_searches_waiting`). Settings: Variable
`footy_discovery` (JSON, all optional: `sources` (default `["x"]`; `["reddit"]` needs no X
account), `attempts`, `interval_seconds`, `enough_clips`, `max_errors`, `repeat_reserve`, `lease_seconds`,
`gates` {`min_duration_s`, `max_duration_s`, `min_aspect`, `max_aspect`, `min_short_edge`,
`posted_grace_seconds`}, `team_aliases` {"Manchester City": ["Man City"]}); connections
`x_api` (host = base URL, password = bearer token) and `reddit_api` (host =
`https://oauth.reddit.com`, login/password = the app's client id and secret, extra
`{"user_agent": "python:footy:1.0 (by /u/you)"}`).

Search given goals now, even before their next attempt is due (`force` also searches goals
whose search window has ended):

    airflow dags trigger scrape_twitter --conf '{"goal_ids": ["2001_50_1100_normal_1"], "force": false}'
"""  # noqa: E501

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from footy.store.discovery import DUE_GOALS_QUERY, DUE_GOALS_SORT
from footy_airflow.assets import CONFIRMED_GOALS, SEARCHES_PENDING, SEARCHES_WAITING
from footy_airflow.defaults import RUN_FAILED, SENSOR_ARGS, dag_args
from footy_airflow.params import goal_id_param, goal_ids_param
from footy_airflow.sensors import WorkSelectionSensor
from footy_airflow.tasks.discover import (
    SEARCH_RUN_LIMIT,
    SELECT_TASK_ID,
    announce_search_results,
    goals_to_search,
    search_goal,
)

with DAG(
    dag_id="scrape_twitter",
    doc_md=__doc__,
    schedule=CONFIRMED_GOALS | SEARCHES_PENDING | SEARCHES_WAITING,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    max_active_runs=3,  # overlapping runs are safe: each goal is claimed by one of them
    default_args=dag_args("scrape_twitter"),
    on_failure_callback=RUN_FAILED,  # footy_alerts connection, off by default
    tags=["footy", "clips"],
    params={
        "goal_ids": goal_ids_param("Manual run: search these goals now"),
        "goal_id": goal_id_param(),
        "force": Param(False, type="boolean",
                       description="Manual run: also search goals whose window has ended"),
    },
):
    # Goals in the conf are searched now. Any other run waits (deferred, in the triggerer)
    # until a goal is due: a footy_searches_pending run until its goals' next attempt.
    goal_ids = WorkSelectionSensor(
        task_id=SELECT_TASK_ID,
        choose=goals_to_search,
        wait_on_events=True,
        collection="goals",
        query=DUE_GOALS_QUERY,
        sort=DUE_GOALS_SORT,  # first searches first
        limit=SEARCH_RUN_LIMIT,
        # Longer than the default 60 s between attempts.
        timeout=timedelta(seconds=150),
        **SENSOR_ARGS,
    )
    searched = search_goal.expand(goal_id=goal_ids.output)
    announce_search_results(searched, goal_ids.output)
