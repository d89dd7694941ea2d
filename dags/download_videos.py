"""
### download_videos

Downloads every accepted clip (`videos` in state `candidate`) once, checks it, and stores
it. For every confirmed goal with due candidates, one mapped task instance, named by the goal
("E. Haaland 11' Manchester City v Arsenal"), downloads the goal's clips a few at a time
with yt-dlp (URL allow-list, no private addresses, size limit, socket timeouts), probes the
real file, applies the quality gates to the real numbers, and puts it in object storage at
`{fixture_id}/{goal_id}/{sha256[:16]}.mp4` with metadata (goal, fixture, player, team,
minute, source URL, width, height, duration). The clip becomes `stored` (`storage`, `sha256`,
`file`) or, on a permanent failure or after `FOOTY_DOWNLOAD_MAX_ATTEMPTS` transient ones,
`failed` (`download.error` = class and message); a failed clip never fails its goal. Clips
arriving while the goal is still being searched are downloaded as they come;
`processing_status.videos_downloaded` becomes true once the search is over and no candidate
is pending. Goals with newly stored clips are announced on `footy_stored_clips`.

Runs on `footy_clip_candidates` events, when its watcher finds goals with downloads due and
no run on them (`footy_downloads_waiting`: retries, a search window that ended), or by hand
for given goals (`force` turns their failed clips back into candidates first):

    airflow dags trigger download_videos --conf '{"goal_ids": ["2001_50_1100_normal_1"], "force": false}'

Needs the pool `footy_downloads` (goals downloading at once; each downloads up to
`FOOTY_DOWNLOAD_CONCURRENCY`, default 3, clips at a time):

    airflow pools set footy_downloads 4 "download_videos: goals downloading at once"

Storage: `FOOTY_STORAGE_URL` (`s3://bucket/prefix` with connection `aws_default`, or
`file:///path`; default `.footy/storage`). Each source's clips come only from its own
hosts: `FOOTY_X_MEDIA_HOSTS`, `FOOTY_REDDIT_MEDIA_HOSTS` (comma lists; defaults in the sources), `FOOTY_DOWNLOAD_ALLOW_PRIVATE=1` only for a local
stand-in, `FOOTY_DOWNLOAD_MAX_BYTES`, `FOOTY_DOWNLOAD_SOCKET_TIMEOUT`,
`FOOTY_DOWNLOAD_RETRY_SECONDS`, `FOOTY_DOWNLOAD_WORK_DIR`.
"""  # noqa: E501

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, Param

from footy.store.downloads import due_query
from footy_airflow.assets import CLIP_CANDIDATES, DOWNLOADS_WAITING
from footy_airflow.defaults import RUN_FAILED, SENSOR_ARGS, dag_args
from footy_airflow.params import goal_id_param, goal_ids_param
from footy_airflow.sensors import WorkSelectionSensor
from footy_airflow.tasks.download import (
    SELECT_TASK_ID,
    announce_stored_clips,
    download_goal,
    goals_to_download,
)
from footy_airflow.triggers import NOW

with DAG(
    dag_id="download_videos",
    doc_md=__doc__,
    schedule=CLIP_CANDIDATES | DOWNLOADS_WAITING,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    # A run waiting in its sensor must not hold back the next hand-off.
    max_active_runs=3,
    default_args=dag_args("download_videos"),
    on_failure_callback=RUN_FAILED,  # footy_alerts connection, off by default
    tags=["footy", "clips"],
    params={
        "goal_ids": goal_ids_param("Manual run: download these goals' due clips now"),
        "goal_id": goal_id_param(),
        "force": Param(False, type="boolean",
                       description="Manual run: retry the goals' failed clips too"),
    },
):
    # Started by a hand-off or a watcher, or with goals in the conf: straight to the goals. A
    # manual run without goals first waits (deferred) for due candidates; on timeout it still
    # chooses, to finish searched goals that have nothing pending.
    goal_ids = WorkSelectionSensor(
        task_id=SELECT_TASK_ID,
        choose=goals_to_download,
        choose_on_timeout=True,
        collection="videos",
        query=due_query(NOW),
        limit=1,
        timeout=timedelta(seconds=50),
        **SENSOR_ARGS,
    )
    results = download_goal.expand(goal_id=goal_ids.output)  # in pool footy_downloads
    announce_stored_clips(results)
