"""``make run``: the whole pipeline on its embedded default, from a fresh clone.

Starts FerretDB, the stand-in server (API-Football, X, Reddit and the clip hosts) replaying
the bundled match day in compressed time (``FOOTY_SOURCES=reddit`` searches r/soccer alone,
with no X connection at all), and Airflow's components (supervised, on loopback; with
``FOOTY_AIRFLOW_LAYOUT=distributed`` the Celery stack) with the project's DAGs unpaused;
prints the UI address and login, progress as goals are found and clips kept, and ends with a
per-goal summary. With ``API_FOOTBALL_KEY`` and ``X_BEARER_TOKEN`` set it runs against the
real services instead. Ctrl-C stops everything it started; the data stays in ``.footy/``.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "include"))

from footy.status import render_goals  # noqa: E402
from footy.store import connect  # noqa: E402
from footy.store.report import fixture_counts, goal_counts, goal_summaries, video_counts  # noqa: E402
from footy_testbed.embedded import embedded_env, real_env  # noqa: E402
from footy_testbed.services import STAGE_DAGS, ServiceStack  # noqa: E402

PORTS = {"ferretdb": os.environ.get("FOOTY_FERRETDB_PORT", "27117"),
         "standin": os.environ.get("FOOTY_STANDIN_PORT", "8099"),
         "airflow": os.environ.get("FOOTY_AIRFLOW_PORT", "8080")}


def progress_line(db, started: float) -> str:
    fx, goals, clips = fixture_counts(db), goal_counts(db), video_counts(db)
    return (f"[{time.monotonic() - started:5.0f}s] fixtures staging/active/completed "
            f"{fx['fixtures_staging']}/{fx['fixtures_active']}/{fx['fixtures_completed']} | goals "
            f"confirmed {sum(v for k, v in goals.items() if k != 'withdrawn')} "
            f"completed {goals['completed']} withdrawn {goals['withdrawn']} | clips "
            f"found {sum(clips.values())} kept {clips.get('kept', 0)} "
            f"duplicates {clips.get('duplicate', 0)} rejected {clips.get('rejected', 0)} "
            f"failed {clips.get('failed', 0)}")


def finished(db) -> bool:
    fx, goals = fixture_counts(db), goal_counts(db)
    pending = sum(v for k, v in goals.items() if k not in {"completed", "withdrawn"})
    return fx["fixtures_completed"] > 0 and not fx["fixtures_staging"] + fx[
        "fixtures_active"] and not pending


def main() -> int:
    real = bool(os.environ.get("API_FOOTBALL_KEY") and os.environ.get("X_BEARER_TOKEN"))
    scenario = os.environ.get("FOOTY_SCENARIO", "demo")
    mongo_uri = os.environ.get("MONGO_URI") or f"mongodb://127.0.0.1:{PORTS['ferretdb']}/"
    env = dict(os.environ)
    if real:
        env.update(real_env(ROOT, api_football_key=env["API_FOOTBALL_KEY"],
                            x_bearer_token=env["X_BEARER_TOKEN"]))
        env.setdefault("AIRFLOW_CONN_MONGO_DEFAULT", mongo_uri.replace("mongodb://", "mongo://"))
    else:
        from footy_testbed.standin.scenario import load_scenario

        plan = load_scenario(scenario)
        leagues = sorted({f.raw["league"]["id"] for f in plan.fixtures})
        season = plan.fixtures[0].raw["league"]["season"]
        sources = tuple(s.strip() for s in env.get("FOOTY_SOURCES", "x,reddit").split(",")
                        if s.strip())  # FOOTY_SOURCES=reddit: a user without an X account
        env.update(embedded_env(ROOT, standin_url=f"http://127.0.0.1:{PORTS['standin']}",
                                mongo_uri=mongo_uri, league_ids=leagues, season=season,
                                sources=sources))
        if "x" not in sources:  # not even one inherited from the shell
            env.pop("AIRFLOW_CONN_X_API", None)
        env["FOOTY_SCENARIO"] = scenario

    stack = ServiceStack(env)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        stack.start("ferretdb")
        if env.get("FOOTY_AIRFLOW_LAYOUT") == "distributed":  # make run-distributed
            stack.start("postgres")  # Airflow's metadata database
            stack.start("redis")  # the Celery broker
        stack.start("airflow")
        print(f"\nAirflow UI: http://127.0.0.1:{PORTS['airflow']}  (login admin / admin)")
        stack.wait_for_dags()
        if not real:
            stack.start("standin")  # only now: the stand-in's match day starts when it does
        stack.cli("pools", "set", "footy_downloads", "4", "Parallel clip downloads")
        stack.unpause()
        today = datetime.now(UTC).date().isoformat()
        stack.trigger("ingest_fixtures", {"date": today})
        print(f"Unpaused {len(STAGE_DAGS)} DAGs and triggered ingest_fixtures for {today}.\n"
              "Watch the grid in the UI; progress follows (Ctrl-C stops everything).\n")

        db = connect(mongo_uri)
        started, last = time.monotonic(), ""
        limit = float(os.environ.get("FOOTY_DEMO_MINUTES", "40")) * 60
        while time.monotonic() - started < limit:
            line = progress_line(db, started)
            if line.split("]", 1)[1] != last:
                print(line, flush=True)
                last = line.split("]", 1)[1]
            if finished(db):
                break
            time.sleep(10)
        print("\nPer-goal summary:\n" + render_goals(goal_summaries(db)))
        return 0
    except KeyboardInterrupt:
        print("\nStopping (the data stays in .footy/) ...")
        return 130
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
