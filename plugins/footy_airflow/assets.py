"""The Assets that hand work from one stage DAG to the next (event extras carry the ids)."""

from airflow.sdk import Asset

FIXTURE_GOAL_CHANGES = Asset("footy_fixture_goal_changes", group="footy")
"""monitor_fixtures -> process_goals. extra: {"fixture_ids": [...]}"""

WITHDRAWN_GOALS = Asset("footy_withdrawn_goals", group="footy")
"""process_goals -> filter_videos (removes their stored clips). extra: {"goal_ids": [...]}"""

CONFIRMED_GOALS = Asset("footy_confirmed_goals", group="footy")
"""process_goals -> scrape_twitter. extra: {"goal_ids": [...]}"""

SEARCHES_PENDING = Asset("footy_searches_pending", group="footy")
"""scrape_twitter -> itself: goals whose search window goes on. extra: {"goal_ids": [...]}

The next run starts at once and its deferred sensor wakes exactly when the next attempt is
due, so attempts follow the configured interval, not the minute-by-minute fallback."""

CLIP_CANDIDATES = Asset("footy_clip_candidates", group="footy")
"""scrape_twitter -> download_videos. extra: {"goal_ids": [...], "video_ids": [...]}"""

STORED_CLIPS = Asset("footy_stored_clips", group="footy")
"""download_videos -> filter_videos. extra: {"goal_ids": [...]}"""

KEPT_CLIPS = Asset("footy_kept_clips", group="footy")
"""filter_videos -> anyone who wants the kept clips. extra: {"goal_ids": [...]}"""
