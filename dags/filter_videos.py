"""
### filter_videos

Keeps one best copy of each distinct clip of a goal. For every goal with newly `stored`
clips: fingerprint each new clip once (stored on the clip), compare it with the goal's kept
clips; a new distinct clip is `kept`, a copy of a kept clip is a `duplicate` (`duplicate_of`,
`duplicate_reason`) and its object is deleted, a better copy replaces a worse keeper. A clip
that cannot be decoded is `failed` (`filter.error`), never failing its goal. Once downloads
are over and every clip is filtered, the goal is `videos_filtered` and `completed`. Clips of
withdrawn goals are `removed` and their objects deleted. One mapped task instance per goal,
named by goal; goals with newly kept clips are announced on `footy_kept_clips`.

Runs on `footy_stored_clips` and `footy_withdrawn_goals` events, when its watcher finds
goals with filtering work and no run on them (`footy_filtering_waiting`; this also completes
goals whose downloads ended with nothing stored), or by hand for given goals:

    airflow dags trigger filter_videos --conf '{"goal_ids": ["2001_50_1100_normal_1"]}'

Re-running changes nothing once a goal is filtered. Settings: Variable `footy_filter`
(JSON, optional) `{"delete_duplicates": true, "max_read_attempts": 3}`; storage from
`FOOTY_STORAGE_URL` (`file:///path` or `s3://bucket/prefix` with `aws_default`).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG

from footy.store.filtering import CLIP_WORK_QUERY
from footy_airflow.assets import FILTERING_WAITING, STORED_CLIPS, WITHDRAWN_GOALS
from footy_airflow.defaults import RUN_FAILED, SENSOR_ARGS, dag_args
from footy_airflow.params import goal_id_param, goal_ids_param
from footy_airflow.sensors import WorkSelectionSensor
from footy_airflow.tasks.filter import announce_kept_clips, filter_goal, goals_to_filter

with DAG(
    dag_id="filter_videos",
    doc_md=__doc__,
    schedule=STORED_CLIPS | WITHDRAWN_GOALS | FILTERING_WAITING,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    # A run waiting in its sensor must not hold back the next hand-off.
    max_active_runs=3,
    default_args=dag_args("filter_videos"),
    on_failure_callback=RUN_FAILED,  # footy_alerts connection, off by default
    tags=["footy", "clips"],
    params={
        "goal_ids": goal_ids_param("Manual run: filter these goals now"),
        "goal_id": goal_id_param(),
    },
):
    # Started by a hand-off or a watcher, or with goals in the conf: straight to the goals. A
    # manual run without goals first waits (deferred) for stored clips; on timeout it still
    # chooses, to complete goals whose downloads ended with nothing stored.
    goal_ids = WorkSelectionSensor(
        task_id="collect_goals",
        choose=goals_to_filter,
        choose_on_timeout=True,
        collection="videos",
        query=CLIP_WORK_QUERY,
        limit=1,
        timeout=timedelta(seconds=60),
        **SENSOR_ARGS,
    )
    results = filter_goal.expand(goal_id=goal_ids.output)
    announce_kept_clips(results)
