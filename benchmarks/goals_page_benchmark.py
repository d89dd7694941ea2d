"""Goals page benchmark: a match day of 40 fixtures and 200 goals, from FerretDB to a page
Chromium has rendered.

    .venv/bin/python benchmarks/goals_page_benchmark.py [--fixtures 40] [--goals 200] [--runs 7]

The day is written through the pipeline's own store functions: per goal one keeper with two
duplicates (each with a stored fingerprint, as the filter stage leaves them), a rejected clip,
and for every fifth goal a failed one. Printed, median and worst of ``--runs``:

* server: the day's queries (``footy.store.matchday.match_day``) and the HTML rendering;
* browser: the page served by the plugin's FastAPI app (uvicorn), loaded in headless
  Chromium: navigation start to DOM content loaded, and to the load event.

The app's sign-in check is replaced by a fixed user here (the benchmark measures the page,
not Airflow's token check); everything else is the plugin's own code. MongoDB: ``$MONGO_URI``,
else the project's FerretDB. Figures only; no assertions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "include"), str(ROOT / "plugins")]

from footy.store import GOALS, connect, ensure_indexes, new_processing_status  # noqa: E402
from footy.store.db import FIXTURES_ACTIVE, FIXTURES_COMPLETED  # noqa: E402
from footy.store.discovery import insert_new_videos  # noqa: E402
from footy.store.filtering import mark_duplicate, mark_failed, mark_kept  # noqa: E402
from footy.store.matchday import match_day  # noqa: E402
from footy_testbed.services import project_mongo_uri  # noqa: E402

DAY = datetime(2026, 12, 5, tzinfo=UTC)
FINGERPRINT = os.urandom(6_000)  # about a 10 s clip's stored fingerprint


def seed(db: Any, fixtures: int, goals: int) -> None:
    now = DAY + timedelta(hours=20)
    for f in range(fixtures):
        kickoff = DAY + timedelta(hours=12 + (f % 8))
        live = f % 4 == 0
        db[FIXTURES_ACTIVE if live else FIXTURES_COMPLETED].insert_one({
            "_id": 7000 + f, "kickoff": kickoff, "status": "2H" if live else "FT",
            "label": f"{7000 + f} Home {f} v Away {f}",
            "fixture": {"id": 7000 + f, "timestamp": int(kickoff.timestamp()),
                        "status_short": "2H" if live else "FT", "elapsed": 70,
                        "league_name": "Premier League", "home_team_name": f"Home {f}",
                        "away_team_name": f"Away {f}", "goals_home": 3, "goals_away": 2}})
    for n in range(goals):
        fid, minute = 7000 + n % fixtures, 5 + (n // fixtures) * 17
        gid = f"{fid}_{100 + n % 2}_player-{n}_normal_1"
        status = new_processing_status()
        status.update(twitter_scraped=True, videos_downloaded=True, videos_filtered=True,
                      completed=True, discover_done_at=now, download_done_at=now,
                      filter_done_at=now, completed_at=now)  # fmt: skip
        db[GOALS].insert_one({
            "_id": gid, "fixture_id": fid, "player_name": f"Player {n}", "team_name": "Home",
            "elapsed": minute, "minute": f"{minute}'", "kind": "normal", "status": "confirmed",
            "label": f"Player {n} {minute}'", "confirmed_at": now, "processing_status": status})
        stored = {"state": "stored", "fingerprint": FINGERPRINT, "file": {"fps": 30.0},
                  "quality": {"eff_width": 1280, "eff_height": 720, "fps": 30.0,
                              "duration": 12.0}}  # fmt: skip
        ids = [f"{gid}:x:{n}{k}" for k in range(3)]
        insert_new_videos(db, [
            *({"_id": i, "goal_id": gid, "source": "x", "source_id": i.rsplit(":", 1)[1],
               "post_url": "https://x.com/i/status/1", "storage": {"key": f"{fid}/{gid}/{k}.mp4"},
               **stored} for k, i in enumerate(ids)),
            {"_id": f"{gid}:reddit:r{n}", "goal_id": gid, "source": "reddit",
             "source_id": f"r{n}", "state": "rejected", "reject_reasons": ["no_video"]},
        ])  # fmt: skip
        mark_kept(db, ids[0], "matches no keeper", 4, now)
        for dup in ids[1:]:
            mark_duplicate(db, dup, "stored", ids[0], "keeper is better: lower bitrate",
                           delete_object=True, method=4, now=now)  # fmt: skip
        if n % 5 == 0:
            insert_new_videos(db, [{"_id": f"{gid}:x:f{n}", "goal_id": gid, "source": "x",
                                    "source_id": f"f{n}", "state": "stored"}])  # fmt: skip
            mark_failed(db, f"{gid}:x:f{n}", "stored", {"type": "FingerprintError",
                                                         "message": "no frames"}, now)  # fmt: skip


def figures(name: str, seconds: list[float]) -> None:
    print(f"{name:<44} median {statistics.median(seconds) * 1000:7.1f} ms, "
          f"worst {max(seconds) * 1000:7.1f} ms")  # fmt: skip


def server_side(db: Any, runs: int) -> str:
    from footy_airflow.ui.app import RERUN_DAGS, templates

    query, render, html = [], [], ""
    for _ in range(runs):
        t = time.perf_counter()
        data = match_day(db, DAY.date())
        query.append(time.perf_counter() - t)
        t = time.perf_counter()
        html = templates.get_template("matchday.html").render(
            root="", data=data, user="bench", stages=RERUN_DAGS)
        render.append(time.perf_counter() - t)
    figures("server: the day's queries", query)
    figures("server: HTML rendering", render)
    figures("server: both", [q + r for q, r in zip(query, render, strict=True)])
    return html


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def browser_side(runs: int, fixtures: int, goals: int) -> None:
    import uvicorn
    from playwright.sync_api import sync_playwright

    from footy_airflow.ui.access import page_user
    from footy_airflow.ui.app import app

    class BenchUser:
        def get_name(self) -> str:
            return "bench"

    app.dependency_overrides[page_user] = BenchUser
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    url = f"http://127.0.0.1:{port}/goals?day={DAY.date().isoformat()}"
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    loaded, parsed = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        page.goto(url)  # warm-up: the first request imports the app's modules
        for _ in range(runs):
            page.goto("about:blank")
            page.goto(url, wait_until="load")
            timing = page.evaluate("""() => {
                const nav = performance.getEntriesByType("navigation")[0];
                return {load: nav.loadEventEnd, dom: nav.domContentLoadedEventEnd,
                        size: nav.transferSize,
                        goals: document.querySelectorAll(".goal").length,
                        videos: document.querySelectorAll("video").length};
            }""")  # fmt: skip
            if timing["goals"] != goals:
                raise SystemExit(f"the page shows {timing['goals']} goals, not {goals}")
            loaded.append(timing["load"] / 1000)
            parsed.append(timing["dom"] / 1000)
        browser.close()
    server.should_exit = True
    print(f"page: {fixtures} fixtures, {timing['goals']} goals, {timing['videos']} video "
          f"players, {timing['size'] / 1024:.0f} KiB")  # fmt: skip
    figures("browser: navigation start -> load event", loaded)
    figures("browser: navigation start -> DOM content loaded", parsed)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=int, default=40)
    ap.add_argument("--goals", type=int, default=200)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    uri = project_mongo_uri()
    name = f"footy_page_bench_{int(time.time())}"
    db = connect(uri, name)
    os.environ["AIRFLOW_CONN_MONGO_DEFAULT"] = uri.replace("mongodb://", "mongo://", 1)
    os.environ["FOOTY_MONGO_DB"] = name  # the app reads the same database through MongoHook
    try:
        ensure_indexes(db)
        t = time.perf_counter()
        seed(db, args.fixtures, args.goals)
        print(f"seeded {args.fixtures} fixtures, {args.goals} goals in "
              f"{time.perf_counter() - t:.1f}s ({uri})")  # fmt: skip
        server_side(db, args.runs)
        browser_side(args.runs, args.fixtures, args.goals)
    finally:
        db.client.drop_database(name)


if __name__ == "__main__":
    main()
