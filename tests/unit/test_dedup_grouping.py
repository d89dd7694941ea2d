"""How matched pairs become clusters (quorum linkage), on match graphs (no video)."""

from __future__ import annotations

import itertools
from types import SimpleNamespace

from footy.dedup.cluster import _quorum_groups


def groups(keys: list[str], missing: set[frozenset[str]] = frozenset(),
           extra: set[frozenset[str]] = frozenset(), footage: dict[str, str] | None = None):
    """Every pair of the same footage matches but ``missing``; ``extra`` are false matches."""
    footage = footage or dict.fromkeys(keys, "x")
    edges = {(a, b) for a, b in itertools.combinations(keys, 2)
             if (footage[a] == footage[b] and frozenset((a, b)) not in missing)
             or frozenset((a, b)) in extra}  # fmt: skip
    pairs = {(a, b): SimpleNamespace(run=10, mean_distance=1.0, matched=(a, b) in edges)
             for a, b in itertools.combinations(keys, 2)}  # fmt: skip
    return sorted(sorted(g) for g in _quorum_groups(keys, edges, pairs))


def test_one_missed_match_in_a_large_group_no_longer_splits_it():
    keys = [f"c{i}" for i in range(8)]
    assert groups(keys, missing={frozenset(("c2", "c5"))}) == [keys]


def test_small_groups_stay_complete():
    # three copies, one pair missed: a clip joins a group of two only by matching both
    assert groups(["a", "b", "c"], missing={frozenset(("a", "c"))}) in (
        [["a"], ["b", "c"]], [["a", "b"], ["c"]])


def test_a_false_match_or_two_never_pulls_a_clip_in():
    keys = [f"c{i}" for i in range(6)] + ["other"]
    footage = {**dict.fromkeys(keys[:6], "x"), "other": "y"}
    extra = {frozenset(("other", "c0")), frozenset(("other", "c1"))}
    assert groups(keys, extra=extra, footage=footage) == [keys[:6], ["other"]]


def test_a_clip_missing_many_of_its_matches_stays_out():
    keys = [f"c{i}" for i in range(6)]
    missing = {frozenset(("c5", k)) for k in ("c1", "c2", "c3")}
    assert groups(keys, missing=missing) == [keys[:5], ["c5"]]
