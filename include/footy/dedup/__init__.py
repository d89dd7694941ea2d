"""Near-duplicate removal for the clips of one goal (no Airflow, no database).

``fingerprint(path)`` decodes a clip once into 64-bit dHashes sampled every 0.1 s;
``match(a, b)`` says whether two fingerprints show the same footage (and why);
``cluster(...)`` groups a batch without chain merges and names the best copy of each group;
``assign(new, kept)`` does the same incrementally against the current keepers.
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
