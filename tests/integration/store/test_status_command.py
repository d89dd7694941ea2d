"""``python -m footy status`` against a real database with goals in every stage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from footy.store import GOALS, VIDEOS, Stage, claim_goal, mark_stage_failed, new_processing_status

pytestmark = pytest.mark.integration


def _goal(goal_id: str, **flags) -> dict:
    status = new_processing_status()
    status.update(flags)
    return {"_id": goal_id, "status": "confirmed", "label": goal_id, "processing_status": status}


def test_status_reports_stages_stuck_claims_and_errors(db, mongo_uri, db_name):
    db[GOALS].insert_many([
        _goal("a"),
        _goal("b", twitter_scraped=True),
        _goal("c", twitter_scraped=True, videos_downloaded=True),
        _goal("d", twitter_scraped=True, videos_downloaded=True, videos_filtered=True,
              completed=True),
        {**_goal("e"), "status": "withdrawn"},
    ])
    db[VIDEOS].insert_many([{"_id": "v1", "state": "kept", "source": "reddit"},
                            {"_id": "v2", "state": "failed", "source": "x",
                            "download": {"error": {"type": "ClipForbiddenError", "message": "403",
                                                   "at": datetime.now(UTC)}}}])
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    claim_goal(db, Stage.DOWNLOAD, "b", "dead-worker", timedelta(minutes=5), now=long_ago)
    failing = claim_goal(db, Stage.DISCOVER, "a", "w", timedelta(minutes=5))
    mark_stage_failed(db, failing, TimeoutError("search timed out"))
    from footy.errors import CredentialsRejectedError
    from footy.store.sources import credential_id, pause
    pause(db, "x", credential_id("t"), CredentialsRejectedError("X API 401: Unauthorized"),
          datetime.now(UTC))
    from footy.store.sources import record_window
    reset = (datetime.now(UTC) + timedelta(minutes=10)).replace(microsecond=0)
    record_window(db, "x", 450, 130, reset)
    record_window(db, "x", 450, 121, reset)  # the count only goes down within a window
    record_window(db, "x", 450, 140, reset)
    record_window(db, "reddit", 100, 3, datetime.now(UTC) - timedelta(minutes=1))  # over

    out = subprocess.run(
        [sys.executable, "-m", "footy", "status", "--json"], check=True, capture_output=True,
        text=True, env={**os.environ, "MONGO_URI": mongo_uri, "FOOTY_MONGO_DB": db_name},
    )
    report = json.loads(out.stdout)
    assert report["goals"] == {"awaiting discovery": 1, "awaiting download": 1,
                               "awaiting filter": 1, "completed": 1, "withdrawn": 1}
    assert report["clips"] == {"kept": 1, "failed": 1}
    assert report["clips_by_source"] == {"reddit": {"kept": 1}, "x": {"failed": 1}}
    assert [(c["stage"], c["goal_id"]) for c in report["stuck_claims"]] == [("download", "b")]
    assert report["errors"]["goal_errors_by_class"] == {"TimeoutError": 1}
    assert report["errors"]["clip_errors_by_class"] == {"ClipForbiddenError": 1}
    assert report["paused_sources"]["x"]["error"]["type"] == "CredentialsRejectedError"

    text = subprocess.run(
        [sys.executable, "-m", "footy", "status"], check=True, capture_output=True, text=True,
        env={**os.environ, "MONGO_URI": mongo_uri, "FOOTY_MONGO_DB": db_name},
    ).stdout
    assert "awaiting download" in text and "stuck claims: 1" in text
    assert "clip source x: PAUSED" in text and "change its connection to resume" in text
    assert "from reddit" in text and "(kept 1," in text
    assert f"clip source x: 121 of 450 requests left until {reset:%H:%M:%S} UTC" in text
    assert "clip source reddit:" not in text  # its window is over


def test_status_lists_uncertain_publications_and_resolves_them(db, mongo_uri, db_name):
    from footy.store import publications as pubs

    long_ago = datetime.now(UTC) - timedelta(hours=1)
    key = pubs.publication_key("g", "g:x:1", "footy_discord")
    pubs.begin(db, key, {"goal_id": "g", "channel": "footy_discord"}, "dead-worker", long_ago,
               timedelta(minutes=2))  # fmt: skip
    env = {**os.environ, "MONGO_URI": mongo_uri, "FOOTY_MONGO_DB": db_name}
    status = [sys.executable, "-m", "footy", "status"]
    report = json.loads(subprocess.run([*status, "--json"], check=True, capture_output=True,
                                       text=True, env=env).stdout)  # fmt: skip
    assert report["publications"] == {"uncertain": 1}
    assert [u["key"] for u in report["uncertain_publications"]] == [key]
    resolved = subprocess.run([*status, "--resolve", key, "failed"], capture_output=True,
                              text=True, env=env)  # fmt: skip
    assert resolved.returncode == 0 and "resolved as failed" in resolved.stdout
    again = subprocess.run([*status, "--resolve", key, "sent"], capture_output=True, text=True,
                           env=env)  # fmt: skip
    assert again.returncode == 1  # no longer uncertain
    assert pubs.latest(db, key)["state"] == "failed"
