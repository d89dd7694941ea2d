"""Burst benchmark: a match day of live fixtures whose goals all fall within 15 scenario
minutes, through the real stack.

FerretDB, the stand-in server and Airflow's components run exactly as ``make run`` (or, with
``--layout distributed``, ``make run-distributed``) starts them, on a generated match day.
Prints per-stage throughput, goal-to-first-keeper latency (p50/p95), the peak memory of the
Airflow processes, CPU seconds per component (the scheduler's include the LocalExecutor's
task processes, a Celery worker's its own), the DAG runs and task instances the day cost,
and a check that every goal completed exactly once. Figures only: it asserts nothing.

    .venv/bin/python benchmarks/load_benchmark.py [--fixtures 500] [--goals 300] \
        [--airflow-db postgresql] [--layout distributed]

With hundreds of fixtures, run FerretDB on PostgreSQL (``FOOTY_FERRETDB_BACKEND=postgresql``,
see the README): on SQLite one poll of 500 live fixtures takes minutes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import statistics
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import psutil

from footy.storage import LocalClipStorage
from footy.store import GOALS, VIDEOS, connect
from footy.store.report import goal_summaries
from footy_testbed.embedded import embedded_env
from footy_testbed.services import ROOT, STAGE_DAGS, ServiceStack, local_ferretdb_uri
from footy_testbed.standin.media import prerender
from footy_testbed.standin.server import make_world

MAX_GOALS = 5  # per fixture
STAGES = {"discover": "twitter_scraped", "download": "videos_downloaded",
          "filter": "videos_filtered"}


def surname(i: int) -> str:
    """A distinct made-up surname per scorer: the stand-in X search matches on name parts, so
    scorers must not share one (a shared "Player" would match every clip of the day)."""
    consonants, vowels = "bdfgklmnprstvz", "aeiou"
    parts = []
    for _ in range(3):
        i, c = divmod(i, len(consonants))
        i, v = divmod(i, len(vowels))
        parts.append(consonants[c] + vowels[v])
    return "".join(parts).capitalize()


def goals_per_fixture(fixtures: int, goals: int, rng: random.Random) -> list[int]:
    """Spread ``goals`` over ``fixtures`` as a real day does: many matches without a goal, a
    few with five (at most ``MAX_GOALS`` each)."""
    if goals > fixtures * MAX_GOALS:
        raise SystemExit(f"{goals} goals do not fit in {fixtures} fixtures of {MAX_GOALS} each")
    counts = [0] * fixtures
    for _ in range(goals):
        counts[rng.choice([m for m, n in enumerate(counts) if n < MAX_GOALS])] += 1
    return counts


def scenario(fixtures: int, goals: int, seed: int = 7) -> dict:
    """A match day: kick-offs staggered over 2 minutes, all goals inside 15 minutes."""
    rng = random.Random(seed)
    counts = goals_per_fixture(fixtures, goals, rng)
    day = []
    for m, goals_per_match in enumerate(counts):
        kickoff = 30 + (m * 90) // fixtures
        minute_s = 8.0  # 90 minutes in 12 scenario minutes
        events = []
        minutes = sorted(rng.sample(range(3, 89), goals_per_match))
        for g, minute in enumerate(minutes):
            t = kickoff + minute * minute_s + (15 if minute > 45 else 0)  # 15 s half-time
            player = 10_000 + m * 100 + g
            events.append({
                "key": f"m{m}-g{g}", "t": round(t, 1), "elapsed": minute, "extra": None,
                "team": "home" if g % 2 == 0 else "away",
                "player": {"id": player, "name": f"{chr(65 + g)}. {surname(player)}"},
                "assist": {"id": None, "name": None}, "type": "Goal",
                "detail": "Normal Goal", "comments": None,
                "clips": [{"id": str(1_900_000_000_000_000_000 + m * 1000 + g * 10 + 1),
                           "after": 5, "text": f"{surname(player)} scores",
                           # a scene of its own: different goals never share a clip
                           "video": {"scene": 100 + m * MAX_GOALS + g,
                                     "duration": 6.0}}],
            })
        day.append({
            "id": 9000 + m, "kickoff": kickoff, "minute_seconds": minute_s, "totals_lag": 5,
            "league": {"id": 39, "name": "Premier League", "season": 2025, "round": "Load"},
            "home": {"id": 500 + 2 * m, "name": f"Home FC {m:02d}"},
            "away": {"id": 501 + 2 * m, "name": f"Away FC {m:02d}"},
            "timeline": [
                {"t": 0, "status": "NS"}, {"t": kickoff, "status": "1H"},
                {"t": kickoff + 45 * minute_s, "status": "HT"},
                {"t": kickoff + 45 * minute_s + 15, "status": "2H", "elapsed": 46},
                {"t": kickoff + 90 * minute_s + 15, "status": "FT"},
            ],
            "events": sorted(events, key=lambda e: e["t"]),
        })
    return {"name": "load", "description": f"{fixtures} fixtures, {goals} goals",
            "settings": {"page_size": 20}, "fixtures": day}


SAMPLE_EVERY = 5.0  # seconds; reading every process's PSS costs CPU the stack competes for


class ResourceWatch(threading.Thread):
    """Peak memory of the Airflow processes and CPU seconds per component, sampled every 5 s.

    Memory is summed as PSS (each shared page split among the processes sharing it): the
    forked task processes share most of their pages, so summed RSS would count them many
    times over.

    CPU of a tree is the sum, over its live processes, of their own time and the time of the
    children they have reaped: a task process that ended is counted in its parent, so none is
    lost between samples. The scheduler's tree holds the LocalExecutor and its task processes.
    """

    def __init__(self, airflow: ServiceStack, services: dict[str, ServiceStack]) -> None:
        super().__init__(daemon=True)
        self.airflow, self.services = airflow, services
        self.peak, self.peak_processes = 0, 0
        self.cpu: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(SAMPLE_EVERY):
            procs = self.airflow.processes("airflow")
            if procs:
                self._memory(procs)
                for name, root in self.airflow.components().items():
                    self._cpu(name, _tree(root))
            for name, stack in self.services.items():
                self._cpu(name, stack.processes(name))

    def _memory(self, procs: list[psutil.Process]) -> None:
        total = 0
        for proc in procs:
            try:
                total += proc.memory_full_info().pss
            except psutil.Error:
                continue  # a task process that ended between listing and reading
        self.peak = max(self.peak, total)
        self.peak_processes = max(self.peak_processes, len(procs))

    def _cpu(self, name: str, procs: list[psutil.Process]) -> None:
        total = 0.0
        for proc in procs:
            try:
                t = proc.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
            except psutil.Error:
                continue
        self.cpu[name] = max(self.cpu.get(name, 0.0), total)


def _tree(root: psutil.Process) -> list[psutil.Process]:
    try:
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=int, default=500)
    parser.add_argument("--goals", type=int, default=300)
    parser.add_argument("--limit-minutes", type=float, default=45)
    parser.add_argument("--airflow-db", choices=["sqlite", "postgresql"], default="sqlite",
                        help="Airflow's metadata database (postgresql: a fresh database on "
                             "the project's PostgreSQL cluster)")
    parser.add_argument("--layout", choices=["embedded", "distributed"], default="embedded",
                        help="distributed: Celery workers and two triggerers (metadata on "
                             "PostgreSQL, broker Redis), as make run-distributed")
    args = parser.parse_args()
    if args.layout == "distributed":
        args.airflow_db = "postgresql"
    total_goals = args.goals

    work = Path(tempfile.mkdtemp(prefix="footy-load-"))
    plan = work / "load.json"
    day = scenario(args.fixtures, args.goals)
    plan.write_text(json.dumps(day))
    # Rendering is the stand-in clip host's work, not the pipeline's: do it before the clock
    # starts, as a CDN holds a file before its post appears (cached across runs).
    rendering = time.monotonic()
    count = prerender(make_world(day))
    print(f"{count} clips pre-rendered in {time.monotonic() - rendering:.0f}s", flush=True)
    mongo_uri = os.environ.get("MONGO_URI", local_ferretdb_uri())
    db_name = f"footy_load_{int(time.time())}"
    env = {
        **dict(os.environ),
        **embedded_env(ROOT, standin_url="http://127.0.0.1:8299", mongo_uri=mongo_uri,
                       league_ids=[39], season=2025),
        "FOOTY_STATE_DIR": str(work / "state"), "AIRFLOW_HOME": str(work / "airflow"),
        "FOOTY_MONGO_DB": db_name, "FOOTY_STORAGE_URL": (work / "storage").as_uri(),
        "FOOTY_AIRFLOW_PORT": "8288", "FOOTY_STANDIN_PORT": "8299",
        "FOOTY_SCENARIO": str(plan), "FOOTY_AIRFLOW_LAYOUT": args.layout,
        "AIRFLOW_VAR_FOOTY_DISCOVERY": json.dumps(
            {"attempts": 2, "interval_seconds": 30, "enough_clips": 10, "sources": ["x"]}),
        # The figures end at the first keeper: publishing is left out (no channel, and
        # publish_clips stays paused), so runs stay comparable with those measured before it.
        "AIRFLOW_VAR_FOOTY_PUBLISH": json.dumps({"channels": []}),
    }
    stack = ServiceStack(env)
    database = ServiceStack(dict(os.environ))  # the project's FerretDB, shared, not this run's
    print(f"FerretDB backend: {os.environ.get('FOOTY_FERRETDB_BACKEND', 'sqlite')} "
          f"({mongo_uri})", flush=True)
    memory = ResourceWatch(stack, {"standin": stack, "ferretdb": database, "postgres": database})
    try:
        backend = os.environ.get("FOOTY_FERRETDB_BACKEND", "sqlite")
        if "postgresql" in (backend, args.airflow_db):
            database.start("postgres")  # started here, so that it is stopped here too
        database.start("ferretdb")
        if args.airflow_db == "postgresql":
            stack.env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] = fresh_database(f"airflow_{db_name}")
        print(f"Airflow: {args.layout}, metadata on {args.airflow_db}", flush=True)
        if args.layout == "distributed":
            stack.start("redis")
        stack.start("airflow")
        memory.start()
        stack.wait_for_dags()
        stack.start("standin")
        stack.cli("pools", "set", "footy_downloads", "8", "load benchmark")
        stack.unpause([d for d in STAGE_DAGS if d != "publish_clips"])
        stack.trigger("ingest_fixtures", {"date": datetime.now(UTC).date().isoformat()})
        db = connect(mongo_uri, db_name)
        started = time.monotonic()
        while time.monotonic() - started < args.limit_minutes * 60:
            done = db[GOALS].count_documents({"processing_status.completed": True})
            print(f"[{time.monotonic() - started:5.0f}s] goals {db[GOALS].count_documents({})}"
                  f" completed {done}/{total_goals}", flush=True)
            if done >= total_goals:
                break
            time.sleep(20)
        report(db, LocalClipStorage(work / "storage"), total_goals, memory)
        report_runs(stack)
    finally:
        memory.stop.set()
        stack.stop()
        database.stop()
    return 0


def fresh_database(name: str) -> str:
    """A new, empty database on the project's PostgreSQL cluster; its SQLAlchemy URL."""
    import psycopg2

    port = os.environ.get("FOOTY_POSTGRES_PORT", "54329")
    conn = psycopg2.connect(host="127.0.0.1", port=port, user="postgres", dbname="postgres")
    conn.autocommit = True  # CREATE DATABASE cannot run in a transaction
    with conn.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return f"postgresql+psycopg2://postgres@127.0.0.1:{port}/{name}"


def report(db, storage: LocalClipStorage, total_goals: int, memory: ResourceWatch) -> None:
    goals = list(db[GOALS].find())
    print(f"\ngoals: {len(goals)} confirmed of {total_goals} in the scenario")
    for stage, flag in STAGES.items():
        times = sorted(g["processing_status"][f"{stage}_done_at"] for g in goals
                       if g["processing_status"].get(flag) and
                       g["processing_status"].get(f"{stage}_done_at"))
        if len(times) > 1:
            span = (times[-1] - times[0]).total_seconds() / 60
            print(f"  {stage:<9} {len(times):>4} goals done, {len(times) / max(span, 1e-9):6.1f}"
                  f" goals/min over {span:.1f} min")
    latencies = [g["seconds_to_first_keeper"] for g in goal_summaries(db)
                 if g["seconds_to_first_keeper"] is not None]
    print_quantiles("confirmation -> first keeper", latencies)
    print("where the time goes, per kept clip:")
    by_id = {g["_id"]: g for g in goals}
    hops: dict[str, list[float]] = {}
    for clip in db[VIDEOS].find({"state": "kept"}):
        goal = by_id[clip["goal_id"]]
        moments = [("poll before the goal showed", goal.get("first_seen_after")),
                   ("confirmed (debounce)", goal["confirmed_at"]),
                   ("clip found", clip.get("found_at")), ("stored", clip.get("stored_at")),
                   ("kept", clip.get("filter", {}).get("decided_at"))]
        for (_, start), (name, end) in itertools.pairwise(moments):
            if start and end:
                hops.setdefault(name, []).append((end - start).total_seconds())
    for name, seconds in hops.items():
        print_quantiles(f"  -> {name}", seconds)
    print(f"peak memory of the Airflow processes: {memory.peak / 2**20:.0f} MiB PSS "
          f"(at most {memory.peak_processes} processes at once)")
    print("CPU seconds: " + ", ".join(f"{name} {seconds:.0f}"
                                      for name, seconds in memory.cpu.items()))
    completed = [g for g in goals if g["processing_status"].get("completed")]
    kept = list(db[VIDEOS].find({"state": "kept"}, {"goal_id": 1, "storage": 1}))
    per_goal = {g["_id"]: 0 for g in goals}
    for v in kept:
        per_goal[v["goal_id"]] = per_goal.get(v["goal_id"], 0) + 1
    objects = storage.list()
    ok = (len(completed) == len(goals) == total_goals
          and all(n == 1 for n in per_goal.values()) and len(objects) == len(kept))
    print(f"exactly once: {len(completed)}/{total_goals} goals completed, "
          f"{sum(per_goal.values())} keepers ({sum(1 for n in per_goal.values() if n != 1)} "
          f"goals without exactly one), {len(objects)} stored objects -> "
          f"{'OK' if ok else 'MISMATCH'}")


def report_runs(stack: ServiceStack) -> None:
    """DAG runs and task instances per DAG, from Airflow's REST API."""
    runs = tis = 0
    for dag_id in STAGE_DAGS:
        n_runs = stack.run_count(dag_id)
        n_tis = stack.call("GET", f"/dags/{dag_id}/dagRuns/~/taskInstances?limit=1")
        runs, tis = runs + n_runs, tis + n_tis["total_entries"]
        print(f"  {dag_id:<18} {n_runs:>5} runs {n_tis['total_entries']:>6} task instances")
    print(f"DAG runs {runs}, task instances {tis}")


def print_quantiles(name: str, seconds: list[float]) -> None:
    if len(seconds) < 2:
        print(f"{name}: n={len(seconds)}")
        return
    p95 = statistics.quantiles(seconds, n=20)[18]
    print(f"{name}: p50 {statistics.median(seconds):.1f}s, p95 {p95:.1f}s (n={len(seconds)})")


if __name__ == "__main__":
    raise SystemExit(main())
