"""The "Goal page" link reads the goal a task instance recorded, or its summary's ``goal_id``,
as plain JSON, and only when it has a goal id's shape: an XCom is never decoded into objects,
and nothing else becomes a link."""

from __future__ import annotations

import pytest

from footy_airflow.ui.links import GOAL_XCOM_KEY, SUMMARY_XCOM_KEY, goal_page_path, recorded_goal

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(("stored", "goal"), [
    ('"3001_50_1100_normal_1"', "3001_50_1100_normal_1"),  # as the XCom table holds it
    ("3001_42_g-martinelli_normal_1", "3001_42_g-martinelli_normal_1"),  # already decoded
    ('"3001_50_1100_normal_1/../../x"', None),
    ('{"__classname__": "builtins.tuple", "__version__": 1, "__data__": [1]}', None),
    ('["3001_50_1100_normal_1"]', None),
    ("not json at all", None),
    (None, None),
])  # fmt: skip
def test_only_a_goal_id_becomes_a_link(stored, goal):
    assert recorded_goal(GOAL_XCOM_KEY, stored) == goal


@pytest.mark.parametrize(("stored", "goal"), [
    ('{"goal_id": "3001_50_1100_normal_1", "label": "x", "kept": []}', "3001_50_1100_normal_1"),
    ({"goal_id": "3001_50_1100_normal_1"}, "3001_50_1100_normal_1"),  # already decoded
    ('{"goal_id": "../../x"}', None),
    ('{"goal": "3001_50_1100_normal_1"}', None),
    ('"3001_50_1100_normal_1"', None),  # a summary is an object, never a bare id
    ('["3001_50_1100_normal_1"]', None),
    (None, None),
])  # fmt: skip
def test_a_summary_links_its_goal_id(stored, goal):
    assert recorded_goal(SUMMARY_XCOM_KEY, stored) == goal


def test_the_link_opens_the_goal_inside_airflows_ui():
    path = goal_page_path("3001_50_1100_normal_1")
    assert path == "/plugin/goals/footy/goals/3001_50_1100_normal_1"
