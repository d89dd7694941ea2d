"""``python -m footy dedup FILE... [--json]``: cluster clips of one goal, name each keeper.

Every readable input appears in exactly one cluster (a singleton is a cluster of one).
Unreadable inputs are reported on stderr (and under ``"errors"`` with ``--json``); the exit
status is non-zero only when no input could be read.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from concurrent.futures import ThreadPoolExecutor

from footy.dedup.cluster import cluster
from footy.dedup.fingerprint import Fingerprint, fingerprint
from footy.errors import error_record


def _fingerprint(path: str) -> tuple[str, Fingerprint | None, dict[str, str] | None]:
    try:
        return path, fingerprint(path), None
    except Exception as exc:  # one bad file must never stop the others
        return path, None, error_record(exc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m footy dedup",
        description="Cluster near-duplicate clips of ONE goal and name the best copy of each.",
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    args = parser.parse_args(argv)

    files = list(dict.fromkeys(args.files))  # the same path twice is one input
    with ThreadPoolExecutor(max_workers=max(1, args.workers)) as pool:
        results = list(pool.map(_fingerprint, files))
    fps = {p: fp for p, fp, _ in results if fp is not None}
    errors = [{"path": p, **err} for p, _, err in results if err is not None]
    for e in errors:
        print(f"error: {e['path']}: {e['type']}: {e['message']}", file=sys.stderr)
    clusters = cluster(fps) if fps else []
    order = {p: i for i, p in enumerate(files)}
    clusters.sort(key=lambda c: order[c.keeper])

    if args.json:
        doc = {
            "clusters": [
                {
                    "keeper": c.keeper,
                    "members": c.members,
                    "why": c.why,
                    "matches": {k: m.why() for k, m in c.matches.items()},
                }
                for c in clusters
            ],
            "errors": errors,
        }
        print(json.dumps(doc, indent=2))
    else:
        for n, c in enumerate(clusters, 1):
            print(f"cluster {n}: {len(c.members)} clip(s), keeper {c.keeper}")
            for k in c.members:
                fp = fps[k]
                mark = "*" if k == c.keeper else " "
                how = "keeper" if k == c.keeper else c.matches[k].why()
                print(
                    f"  {mark} {k}  {fp.eff_width}x{fp.eff_height} {fp.bits_per_pixel:.3f}bpp "
                    f"{fp.fps:.0f}fps {fp.duration:.1f}s  {how}"
                )
            print(f"    why: {c.why}")
        if errors:
            print(f"{len(errors)} file(s) could not be read (see above)")
    return 1 if files and not fps else 0
