"""Group matching clips and pick a keeper per group, without chain merges.

Matching is not transitive (A~B and B~C do not imply A~C), so single-linkage grouping could
merge different footage through a chain of look-alikes.

* :func:`cluster` (batch): **quorum linkage**, a greedy partition of the match graph: a
  cluster grows from its most-connected clip, and a clip joins only if it matches that seed
  and at least :data:`QUORUM` (three quarters) of the members so far. Clusters of up to
  three are therefore complete (every two members match); in larger ones a clip may miss
  one link in four. Complete linkage throughout made one missed match (a borderline pair
  of true copies) cost a whole clip its place: on the tuning split, 2 missed pairs out of
  464 became 20 missed pairs after clustering. One link is never enough, so a single false
  match cannot pull a clip into a cluster (tried as assign() from no keepers, the batch
  let one false match pull a clip into another goal's cluster, and a mirrored copy into
  its original's).
* :func:`assign` (incremental, for the pipeline): each new clip is compared with the current
  keepers only. It joins the single best-matching keeper (replacing it if it is a better copy)
  or becomes a keeper itself. Guarantee: a duplicate always matched its keeper directly, and
  two keepers are never merged, even when a new clip matches both.

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
QUORUM = 0.75  # share of a cluster's members a joining clip must match (and always the seed)


@dataclass
class Cluster(Generic[K]):
    keeper: K
    members: list[K]  # best first; includes the keeper
    why: str
    matches: dict[K, MatchResult] = field(default_factory=dict)  # member -> match with keeper


def _strength(m: MatchResult) -> tuple[int, float]:
    return (m.run, -m.mean_distance)


def pairwise(
    fps: Mapping[K, Fingerprint], rules: tuple[Rule, ...] = DEFAULT_RULES
) -> dict[tuple[K, K], MatchResult]:
    """Match every unordered pair once; keys (a, b) follow the order of ``fps``."""
    keys = list(fps)
    out: dict[tuple[K, K], MatchResult] = {}
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            out[(a, b)] = match(fps[a], fps[b], rules)
    return out


def cluster(
    fingerprints: Mapping[K, Fingerprint],
    *,
    rules: tuple[Rule, ...] = DEFAULT_RULES,
    names: Mapping[K, str] | None = None,
) -> list[Cluster[K]]:
    """Quorum-linkage clusters, each with its best copy as keeper; largest first."""
    keys = sorted(fingerprints, key=str)
    fps = {k: fingerprints[k] for k in keys}
    pairs = pairwise(fps, rules)

    def m(a: K, b: K) -> MatchResult:
        return pairs[(a, b)] if (a, b) in pairs else pairs[(b, a)]

    groups = _quorum_groups(keys, {p for p, r in pairs.items() if r.matched}, pairs)
    out: list[Cluster[K]] = []
    for g in groups:
        members = rank({k: fps[k] for k in g})
        keeper = members[0]
        out.append(
            Cluster(
                keeper=keeper,
                members=members,
                why=explain({k: fps[k] for k in g}, names),
                matches={k: m(keeper, k) for k in members[1:]},
            )
        )
    out.sort(key=lambda c: (-len(c.members), str(c.keeper)))
    return out


def _quorum_groups(
    keys: list[K], edges: set[tuple[K, K]], pairs: Mapping[tuple[K, K], MatchResult]
) -> list[list[K]]:
    """Partition ``keys`` greedily into groups of the match graph, largest first.

    Seed: the clip with most matches among the remaining clips; candidates: the seed's
    matches. Grow: of the candidates matching at least :data:`QUORUM` of the group so far,
    add the one that matches most other candidates (then most members, then the strongest
    link to the seed); stop when no candidate is eligible.
    """
    nbr: dict[K, set[K]] = {k: set() for k in keys}
    for a, b in edges:
        nbr[a].add(b)
        nbr[b].add(a)

    def link(a: K, b: K) -> tuple[int, float]:
        r = pairs.get((a, b)) or pairs[(b, a)]
        return _strength(r)

    remaining = set(keys)
    order = {k: i for i, k in enumerate(keys)}
    groups: list[list[K]] = []
    while remaining:
        seed = max(remaining, key=lambda k: (len(nbr[k] & remaining), -order[k]))
        group = [seed]
        cand = nbr[seed] & remaining
        while cand:
            members = set(group)
            eligible = [k for k in cand if len(nbr[k] & members) >= QUORUM * len(members)]
            if not eligible:
                break
            pick = max(
                eligible,
                key=lambda k: (len(nbr[k] & cand), len(nbr[k] & members), link(seed, k),
                               -order[k]),
            )  # fmt: skip
            group.append(pick)
            cand.discard(pick)
        groups.append(group)
        remaining -= set(group)
    return groups


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
