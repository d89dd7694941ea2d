"""The Goals page's data (``footy.store.matchday``) on FerretDB, from documents written by the
pipeline's own store functions: a day's fixtures and goals in order, each keeper with its
duplicates and their reasons, rejected and failed clips with theirs, and only stored objects
offered for playing."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from footy.store import GOALS, VIDEOS, new_processing_status
from footy.store.db import FIXTURES_ACTIVE, FIXTURES_COMPLETED, FIXTURES_STAGING
from footy.store.discovery import insert_new_videos
from footy.store.filtering import mark_duplicate, mark_failed, mark_kept
from footy.store.matchday import goal_page, kept_clip, match_day
from footy.store.publications import begin, finish

pytestmark = pytest.mark.integration

DAY = date(2026, 3, 14)
NOON = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def fixture(fid: int, home: str, away: str, kickoff: datetime, score=(0, 0), status="1H"):
    return {"_id": fid, "kickoff": kickoff, "status": status, "label": f"{fid} {home} v {away}",
            "fixture": {"id": fid, "timestamp": int(kickoff.timestamp()), "date":
                        kickoff.isoformat(), "status_short": status, "elapsed": 67,
                        "league_name": "Premier League", "home_team_name": home,
                        "away_team_name": away, "goals_home": score[0], "goals_away": score[1]},
            "goal_events": [{"huge": "x" * 100}], "debounce": {}}  # fmt: skip


def goal(gid: str, fid: int, scorer: str | None, elapsed: int, extra: int | None = None, **kw):
    status = new_processing_status()
    status.update(kw.pop("flags", {}))
    minute = f"{elapsed}+{extra}'" if extra else f"{elapsed}'"
    return {"_id": gid, "fixture_id": fid, "player_name": scorer, "team_name": "Home",
            "elapsed": elapsed, "extra": extra, "minute": minute, "kind": "normal",
            "label": f"{scorer} {minute}", "status": kw.pop("status", "confirmed"),
            "confirmed_at": NOON, "processing_status": status}  # fmt: skip


def video(gid: str, source: str, sid: str, state: str = "candidate", **kw):
    return {"_id": f"{gid}:{source}:{sid}", "goal_id": gid, "source": source, "source_id": sid,
            "post_url": f"https://example.org/{sid}", "state": state, **kw}


@pytest.fixture
def day(db):
    db[FIXTURES_ACTIVE].insert_one(fixture(1, "Liverpool", "Chelsea", NOON, (2, 0)))
    db[FIXTURES_COMPLETED].insert_one(
        fixture(2, "Arsenal", "Spurs", NOON - timedelta(hours=3), (1, 1), "FT"))
    db[FIXTURES_STAGING].insert_one(
        fixture(3, "Leeds", "Hull", NOON + timedelta(hours=6), (None, None), "NS"))
    db[FIXTURES_COMPLETED].insert_one(  # the day before: not on this page
        fixture(4, "Everton", "Wolves", NOON - timedelta(days=1), (3, 0), "FT"))
    done = {"twitter_scraped": True, "videos_downloaded": True, "videos_filtered": True,
            "completed": True, "completed_at": NOON + timedelta(minutes=2)}
    db[GOALS].insert_many([
        goal("1_1_b_normal_1", 1, "Late", 45, 1, flags=done),
        goal("1_1_a_normal_1", 1, "Early", 45),
        goal("1_1_c_normal_1", 1, None, 70, flags={"twitter_scraped": True}),
        goal("2_1_d_normal_1", 2, "Withdrawn", 10, status="withdrawn"),
        goal("4_1_e_normal_1", 4, "Yesterday", 5),
    ])  # fmt: skip
    g = "1_1_b_normal_1"
    stored = {"state": "stored", "storage": {"key": f"1/{g}/k.mp4"},
              "quality": {"eff_width": 1920, "eff_height": 1080, "fps": 30.0, "duration": 9.0}}
    insert_new_videos(db, [
        video(g, "reddit", "keep", **stored),
        video(g, "x", "dup", **{**stored, "storage": {"key": f"1/{g}/d.mp4"}}),
        video(g, "x", "bad", "rejected", reject_reasons=["no_video"], reject_detail="a page"),
        video(g, "x", "broken", "stored"),
        video(g, "x", "later"),
    ])  # fmt: skip
    assert mark_kept(db, f"{g}:reddit:keep", "matches no keeper", 4, NOON)
    assert mark_duplicate(db, f"{g}:x:dup", "stored", f"{g}:reddit:keep",
                          "keeper is better: lower effective resolution", delete_object=True,
                          method=4, now=NOON)  # fmt: skip
    db[VIDEOS].update_one({"_id": f"{g}:x:dup"}, {"$set": {"storage.deleted_at": NOON}})
    assert mark_failed(db, f"{g}:x:broken", "stored",
                       {"type": "FingerprintError", "message": "no frames"}, NOON)
    return db


def test_a_day_lists_its_fixtures_live_first_with_goals_in_minute_order(day):
    page = match_day(day, DAY)
    assert [f["id"] for f in page["fixtures"]] == [1, 2, 3]  # live, finished, scheduled
    assert [f["phase"] for f in page["fixtures"]] == ["live", "finished", "scheduled"]
    live = page["fixtures"][0]
    assert live["label"] == "Liverpool v Chelsea" and live["score"] == [2, 0]
    assert [g["minute"] for g in live["goals"]] == ["45'", "45+1'", "70'"]
    assert live["goals"][2]["scorer"] is None
    assert page["goal_count"] == 4  # the day before's goal is not counted
    assert page["fixtures"][1]["goals"][0]["status"] == "withdrawn"
    assert (page["previous"], page["next"]) == ("2026-03-13", "2026-03-15")


def test_a_goal_shows_its_stages_and_every_clip_with_its_reason(day):
    late = match_day(day, DAY)["fixtures"][0]["goals"][1]
    assert [s["stage"] for s in late["stages"]] == ["discover", "download", "filter", "completed"]
    assert all(s["done"] for s in late["stages"])
    assert late["stages"][3]["at"] == "2026-03-14T12:02:00+00:00"
    clips = late["clips"]
    [kept] = clips["kept"]
    assert kept["id"] == "1_1_b_normal_1:reddit:keep" and kept["playable"]
    assert kept["size"] == "1920x1080" and kept["reason"] == "matches no keeper"
    [dup] = kept["duplicates"]
    assert dup["id"] == "1_1_b_normal_1:x:dup" and not dup["playable"]
    assert "lower effective resolution" in dup["reason"]
    assert [c["reason"] for c in clips["rejected"]] == ["no_video (a page)"]
    assert [c["reason"] for c in clips["failed"]] == ["FingerprintError: no frames"]
    assert [c["id"] for c in clips["pending"]] == ["1_1_b_normal_1:x:later"]
    early = match_day(day, DAY)["fixtures"][0]["goals"][0]
    assert not any(s["done"] for s in early["stages"]) and early["clips"]["kept"] == []


def test_only_stored_objects_are_offered_for_playing(day):
    g = "1_1_b_normal_1"
    assert kept_clip(day, f"{g}:reddit:keep") == {"key": f"1/{g}/k.mp4", "state": "kept"}
    assert kept_clip(day, f"{g}:x:dup") is None  # its object was deleted
    assert kept_clip(day, f"{g}:x:bad") is None  # rejected: never stored
    assert kept_clip(day, "no-such-clip") is None


def test_the_goal_page_has_its_fixture_and_the_latest_try_per_publication(day):
    g = "1_1_b_normal_1"
    fields = {"goal_id": g, "video_id": f"{g}:reddit:keep", "channel": "discord", "text": "t"}
    first = begin(day, f"{g}|clip|discord", fields, "w", NOON, timedelta(minutes=5))
    finish(day, first, NOON, error=RuntimeError("500 from discord"))
    second = begin(day, f"{g}|clip|discord", fields, "w", NOON, timedelta(minutes=5))
    finish(day, second, NOON)
    page = goal_page(day, g)
    assert page["fixture"]["label"] == "Liverpool v Chelsea"
    assert page["goal"]["publications"] == [
        {"channel": "discord", "video_id": f"{g}:reddit:keep", "state": "sent", "tries": 2,
         "text": "t", "error": None}]
    assert goal_page(day, "9_9_none_normal_1") is None
