"""
### goal_processing_pipeline

The seed's sequential alternative to the stage DAGs, for manual runs: process goal changes
-> search for clips -> download -> filter, for ALL pending goals (or only the `goal_ids` in
the conf, at every stage), one mapped task instance per fixture or goal at each stage. One
run carries each goal to `completed`.

It runs exactly the task code of `process_goals`, `scrape_twitter`, `download_videos` and
`filter_videos` and takes the same claims, so it is safe while those DAGs are on: a goal
another run is working on is skipped (named, with the reason in its log). Its search is one
attempt made now, due or not, and it is the last of the goal's search window, so that the
downloads and the filter can finish in the same run. A goal it completes gets no later
search attempts from `scrape_twitter`; to look for more clips afterwards, trigger
`scrape_twitter` with `{"goal_ids": [...], "force": true}` and the stages take it from there.
A goal whose search is rate limited or fails stays pending (its instances say so) and the
next run, or the stage DAGs, carry it on.

    airflow dags trigger goal_processing_pipeline
    airflow dags trigger goal_processing_pipeline \
        --conf '{"goal_ids": ["1379344_50_1100_normal_1"]}'
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from footy_airflow.defaults import RUN_FAILED, dag_args
from footy_airflow.params import goal_id_param, goal_ids_param
from footy_airflow.tasks.discover import search_goal
from footy_airflow.tasks.download import download_goal, select_goals
from footy_airflow.tasks.filter import announce_kept_clips, collect_goals, filter_goal
from footy_airflow.tasks.fixtures import process_fixture
from footy_airflow.tasks.pipeline import goals_to_search, pending_fixtures

with DAG(
    dag_id="goal_processing_pipeline",
    doc_md=__doc__,
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    max_active_runs=1,
    default_args=dag_args("goal_processing_pipeline"),
    on_failure_callback=RUN_FAILED,  # footy_alerts connection, off by default
    tags=["footy", "pipeline"],
    params={
        "goal_ids": goal_ids_param("Only these goals (default: every pending goal)"),
        "goal_id": goal_id_param(),
    },
):
    processed = process_fixture.expand(fixture_id=pending_fixtures())

    to_search = goals_to_search()
    searched = search_goal.partial(final=True).expand(goal_id=to_search)

    to_download = select_goals.override(trigger_rule="all_done")()
    downloaded = download_goal.expand(goal_id=to_download)

    to_filter = collect_goals.override(trigger_rule="all_done")()
    filtered = filter_goal.expand(goal_id=to_filter)
    announce_kept_clips(filtered)  # publish_clips announces them like the stages' keepers

    processed >> to_search
    searched >> to_download
    downloaded >> to_filter
