"""Pre-rendering a scenario's clips: the clip host then serves files it already has."""

from __future__ import annotations

import pytest
import requests

from footy.download import probe_video
from footy_testbed.standin.media import prerender
from footy_testbed.standin.server import start_in_thread

pytestmark = pytest.mark.integration

VIDEO, PHOTO, HLS_ONLY = "1900000000000055001", "1900000000000055002", "1900000000000055003"


def _clip(tweet_id: str, **extra) -> dict:
    return {"id": tweet_id, "after": 5, "text": "Bapoda scores",
            "video": {"scene": 7, "duration": 2.0, "width": 320, "height": 180}, **extra}


SCENARIO = {
    "name": "prerender", "description": "one goal, three posts", "fixtures": [{
        "id": 55, "kickoff": 10, "minute_seconds": 1,
        "league": {"id": 39, "name": "Premier League", "season": 2025, "round": "R"},
        "home": {"id": 1, "name": "Home FC"}, "away": {"id": 2, "name": "Away FC"},
        "timeline": [{"t": 0, "status": "NS"}, {"t": 10, "status": "1H"},
                     {"t": 100, "status": "FT"}],
        "events": [{
            "key": "g1", "t": 20, "elapsed": 10, "extra": None, "team": "home",
            "player": {"id": 9, "name": "A. Bapoda"}, "assist": {"id": None, "name": None},
            "type": "Goal", "detail": "Normal Goal", "comments": None,
            "clips": [_clip(VIDEO), _clip(PHOTO, media_type="photo"),
                      _clip(HLS_ONLY, mp4=False)],
        }],
    }],
}


def test_prerender_fills_the_cache_and_the_host_serves_it(tmp_path, monkeypatch):
    cache = tmp_path / "clips"
    monkeypatch.setenv("FOOTY_CLIP_CACHE", str(cache))
    handle = start_in_thread(SCENARIO, paused_at=0)
    try:
        assert prerender(handle.world) == 1, "only the MP4 video is rendered"
        [rendered] = cache.glob("clip-*.mp4")
        probe = probe_video(rendered)
        assert (probe.width, probe.height) == (320, 180)
        rendered_at = rendered.stat().st_mtime_ns

        assert prerender(handle.world) == 1
        served = requests.get(f"{handle.url}/media/{VIDEO}.mp4", timeout=30)
        assert served.status_code == 200 and served.content == rendered.read_bytes()
        assert rendered.stat().st_mtime_ns == rendered_at, "served from the cache, not rendered"
    finally:
        handle.stop()
