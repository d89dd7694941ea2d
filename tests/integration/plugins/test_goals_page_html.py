"""The Goals page's HTML: what comes from posts and feeds is escaped, a post's address is a
link only when it is a web address, and a clip's player points at the clip route by id."""

from __future__ import annotations

import pytest

from footy.store.matchday import STAGES, _no_clips
from footy_airflow.ui.app import RERUN_DAGS, templates

pytestmark = pytest.mark.integration

GOAL = "1_1_a_normal_1"


def page(scorer: str, post_url: str) -> str:
    clip = {"id": f"{GOAL}:x:1", "source": "x", "post_url": post_url, "playable": True,
            "size": "1280x720", "fps": 30.0, "duration": 8.0, "duplicates": [
                {"id": f"{GOAL}:x:2", "source": "x", "post_url": post_url, "state": "duplicate",
                 "reason": "<i>lower bitrate</i>", "size": None, "fps": None}]}  # fmt: skip
    goal = {"id": GOAL, "minute": "5'", "scorer": scorer, "team": "Home", "kind": "penalty",
            "status": "confirmed", "error": None, "clips": {**_no_clips(), "kept": [clip]},
            "stages": [{"stage": s, "done": True, "at": None} for s, _, _ in STAGES]}  # fmt: skip
    day = {"day": "2026-03-14", "previous": "2026-03-13", "next": "2026-03-15", "goal_count": 1,
           "fixtures": [{"id": 1, "home": "Home", "away": "Away", "score": [1, 0],
                         "phase": "live", "elapsed": 5, "status": "1H", "league": "PL",
                         "kickoff": "2026-03-14T15:00:00+00:00", "completed_reason": None,
                         "goals": [goal]}]}  # fmt: skip
    return templates.get_template("matchday.html").render(root="", data=day, user="admin",
                                                         stages=RERUN_DAGS)  # fmt: skip


def test_text_from_feeds_and_posts_is_escaped():
    html = page("<script>alert(1)</script>", "https://x.com/i/status/1")
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; (pen)" in html
    assert "&lt;i&gt;lower bitrate&lt;/i&gt;" in html
    assert 'href="https://x.com/i/status/1"' in html


def test_only_web_addresses_become_links():
    html = page("E. Haaland", "javascript:alert(1)")
    assert "javascript:" not in html and html.count('href="#"') == 2


def test_the_player_loads_the_clip_route_by_its_quoted_id():
    html = page("E. Haaland", "https://x.com/i/status/1")
    assert f'src="clips/{GOAL}%3Ax%3A1"' in html and 'preload="none"' in html
    assert f'href="goals/{GOAL}"' in html
