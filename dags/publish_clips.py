"""
### publish_clips

Delivers the clips: each new keeper of a goal, once, to every channel whose routing takes the
goal (its league, either team, or all), as a fan would post it:
`E. Haaland 23' - Manchester City [1] - 0 Arsenal`, with the clip uploaded when the channel
takes files and it fits, else a link (a presigned S3 URL, or `public_base_url` + the key).
One mapped task instance per goal, named by the goal. Each (goal, clip, channel) is sent at
most once: the try is recorded before the send and completed after it (`publications`), so a
retried or re-run task never posts twice; a try whose worker died in between is listed by
`footy status` as uncertain and left for an operator. A better copy that replaces a
published keeper is not announced again; a goal withdrawn after it was published gets one
correction per channel that showed it.

Runs on `footy_kept_clips` and `footy_withdrawn_goals` events. Paused on creation, and does
nothing (skipped) until channels are configured. Channels are Apprise connections (Airflow's
Apprise provider: Discord, Slack, Telegram, a generic JSON webhook):

    airflow connections add footy_discord --conn-type apprise \\
        --conn-extra '{"config": {"path": "discord://webhook_id/webhook_token"}}'
    airflow variables set footy_publish '{"channels": [{"conn_id": "footy_discord",
        "leagues": [39], "max_upload_mb": 8}], "link": {"presign_seconds": 86400}}'

Publish (or retry) given goals now:

    airflow dags trigger publish_clips --conf '{"goal_ids": ["2001_50_1100_normal_1"]}'
"""

from __future__ import annotations

import pendulum
from airflow.sdk import DAG

from footy_airflow.assets import KEPT_CLIPS, WITHDRAWN_GOALS
from footy_airflow.defaults import RUN_FAILED, dag_args
from footy_airflow.params import goal_id_param, goal_ids_param
from footy_airflow.tasks.publish import goals_to_publish, publish_goal

with DAG(
    dag_id="publish_clips",
    doc_md=__doc__,
    schedule=KEPT_CLIPS | WITHDRAWN_GOALS,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    is_paused_upon_creation=True,
    max_active_runs=3,  # overlapping runs are safe: every send is recorded before it is made
    default_args=dag_args("publish_clips"),
    on_failure_callback=RUN_FAILED,  # footy_alerts connection, off by default
    tags=["footy", "clips"],
    params={
        "goal_ids": goal_ids_param("Manual run: publish (or retry) these goals now"),
        "goal_id": goal_id_param(),
    },
):
    publish_goal.expand(goal_id=goals_to_publish())
