"""Group matching clips and pick a keeper per group, without chain merges.

Matching is not transitive (A~B and B~C do not imply A~C), so single-linkage grouping could
merge different footage through a chain of look-alikes.

* :func:`assign` (incremental, for the pipeline): each new clip is compared with the current
  keepers only. It joins the single best-matching keeper (replacing it if it is a better copy)
  or becomes a keeper itself. Guarantee: a duplicate always matched its keeper directly, and
  two keepers are never merged, even when a new clip matches both.
* :func:`cluster` (batch, for the CLI and the benchmark): :func:`assign` of every clip with no
  keepers yet. Clips are taken best copy first, so each cluster's keeper is its best copy and
  every other member matched that keeper directly (a chain of look-alikes never merges).
  The members need not match each other: two different crops of one footage both match the
  uncropped keeper, and a frame-verified match is strict enough to rely on that.

Only cluster clips of one goal: frames of one broadcast look alike across goals.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from typing import Generic, Literal, TypeVar

from footy.dedup.fingerprint import Fingerprint
from footy.dedup.match import DEFAULT_RULES, MatchResult, Rule, match
from footy.dedup.quality import band_limit, compare_reason, explain, quality_key, rank

K = TypeVar("K", bound=Hashable)


@dataclass
class Cluster(Generic[K]):
    keeper: K
    members: list[K]  # best first; includes the keeper
    why: str
    matches: dict[K, MatchResult] = field(default_factory=dict)  # member -> match with keeper


def _strength(m: MatchResult) -> tuple[int, float]:
    return (m.run, -m.mean_distance)


def cluster(
    fingerprints: Mapping[K, Fingerprint],
    *,
    rules: tuple[Rule, ...] = DEFAULT_RULES,
    names: Mapping[K, str] | None = None,
) -> list[Cluster[K]]:
    """Clusters, each with its best copy as keeper; largest first."""
    fps = {k: fingerprints[k] for k in sorted(fingerprints, key=str)}
    members: dict[K, list[K]] = {}
    matches: dict[K, dict[K, MatchResult]] = {}
    for d in assign(fps, {}, rules=rules):
        if d.action == "keep":
            members.setdefault(d.key, []).insert(0, d.key)
            matches.setdefault(d.key, {})
        else:  # best first, so nothing replaces a keeper: every other clip is a duplicate
            assert d.action == "duplicate" and d.duplicate_of is not None and d.match is not None
            members.setdefault(d.duplicate_of, []).append(d.key)
            matches.setdefault(d.duplicate_of, {})[d.key] = d.match
    out: list[Cluster[K]] = []
    for keeper, group in members.items():
        ranked = [keeper, *(k for k in rank({k: fps[k] for k in group}) if k != keeper)]
        out.append(Cluster(keeper=keeper, members=ranked, why=explain({k: fps[k] for k in group},
                                                                     names),
                           matches=matches[keeper]))  # fmt: skip
    out.sort(key=lambda c: (-len(c.members), str(c.keeper)))
    return out


Action = Literal["keep", "duplicate", "replace"]


@dataclass(frozen=True)
class Decision(Generic[K]):
    """What to do with one clip.

    * ``keep``: a new keeper (no keeper matches it);
    * ``duplicate``: ``duplicate_of`` is the keeper it matched (for a demoted old keeper, the
      new clip that replaced it);
    * ``replace``: a new keeper that takes the place of ``replaces`` (a worse copy of the same
      footage, which gets its own ``duplicate`` decision).
    """

    key: K
    action: Action
    duplicate_of: K | None = None
    replaces: K | None = None
    match: MatchResult | None = None
    why: str = ""


def assign(
    new: Mapping[K, Fingerprint],
    kept: Mapping[K, Fingerprint],
    *,
    rules: tuple[Rule, ...] = DEFAULT_RULES,
) -> list[Decision[K]]:
    """Incremental dedup of ``new`` clips against the current keepers ``kept``.

    New clips are taken best first, so the best new copy of some footage becomes (or replaces)
    the keeper and the weaker ones become its duplicates. Returns one final decision per new
    clip plus one ``duplicate`` decision per replaced old keeper. The caller should re-point
    the old duplicates of a replaced keeper to its replacement (they matched the old keeper;
    the guarantee that no two keepers merge still holds).
    """
    everything = {**kept, **new}
    limit = band_limit([fp.duration for fp in everything.values()])
    keepers: dict[K, Fingerprint] = dict(kept)
    decisions: dict[K, Decision[K]] = {}
    for key in sorted(new, key=lambda k: quality_key(new[k], k, limit)):
        fp = new[key]
        found = [(k, match(fp, kfp, rules)) for k, kfp in sorted(keepers.items(), key=_skey)]
        found = [(k, r) for k, r in found if r.matched]
        if not found:
            keepers[key] = fp
            decisions[key] = Decision(key, "keep", why="matches no keeper")
            continue
        target, result = max(found, key=lambda kr: _strength(kr[1]))
        also = f" (also matched {len(found) - 1} other keeper(s); not merged)" if found[1:] else ""
        tfp = keepers[target]
        if quality_key(fp, key, limit) < quality_key(tfp, target, limit):
            del keepers[target]
            keepers[key] = fp
            decisions[key] = Decision(
                key, "replace", replaces=target, match=result,
                why=f"better copy of {target}: {compare_reason(fp, tfp, limit)}{also}",
            )  # fmt: skip
            decisions[target] = Decision(
                target, "duplicate", duplicate_of=key, match=result,
                why=f"replaced by better copy {key}; {result.why()}",
            )  # fmt: skip
        else:
            decisions[key] = Decision(
                key, "duplicate", duplicate_of=target, match=result,
                why=f"{result.why()}; keeper is better: {compare_reason(tfp, fp, limit)}{also}",
            )  # fmt: skip
    return list(decisions.values())


def _skey(item: tuple) -> str:
    return str(item[0])
