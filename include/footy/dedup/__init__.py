"""Near-duplicate removal for the clips of one goal (no Airflow, no database).

``fingerprint(path)`` decodes a clip once into 64-bit dHashes sampled every 0.1 s;
``match(a, b)`` says whether two fingerprints show the same footage (and why);
``cluster(...)`` groups a batch without chain merges and names the best copy of each group;
``assign(new, kept)`` does the same incrementally against the current keepers.

What counts as the same clip (decided, and tested in ``tests/integration/test_dedup_reuploads.py``):

* re-encodes, rescales, frame-rate conversions, trims, bars, colour grading, logos and
  captions of one camera's footage are duplicates;
* a replay from another camera is a distinct clip;
* a mirrored copy is a distinct clip: the fingerprint is not mirror-invariant, and matching
  mirrored footage would also match the two halves of symmetric scenes;
* a copy played at another speed (a 0.5x slow-motion replay, a 1.25x sped-up re-upload) is a
  distinct clip: a slow-motion replay is what broadcasters show as a replay, and a match
  means the same pictures at the same moments, so the time offset must hold over the whole
  overlap (``footy.dedup.verify`` measures its drift).
"""

from footy.dedup.cluster import Cluster, Decision, assign, cluster
from footy.dedup.fingerprint import (
    METHOD_VERSION,
    ClipInfo,
    CorruptClipError,
    Fingerprint,
    FingerprintMethodError,
    fingerprint,
    probe,
)
from footy.dedup.match import DEFAULT_RULES, MatchResult, Rule, match
from footy.dedup.quality import explain, rank

__all__ = [
    "DEFAULT_RULES",
    "METHOD_VERSION",
    "ClipInfo",
    "Cluster",
    "CorruptClipError",
    "Decision",
    "Fingerprint",
    "FingerprintMethodError",
    "MatchResult",
    "Rule",
    "assign",
    "cluster",
    "explain",
    "fingerprint",
    "match",
    "probe",
    "rank",
]
