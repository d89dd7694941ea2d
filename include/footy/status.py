"""``python -m footy status``: the seed's "Check MongoDB Status" as a command.

Goals per stage, fixtures per bucket, clips per state and per source, publications (and
those left uncertain by a sender that died mid-send: ``--resolve KEY sent|failed``), stuck
claims and recent errors by class. Reads ``$MONGO_URI`` (or ``--uri``) and ``$FOOTY_MONGO_DB``.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime

from footy.store import connect, publications
from footy.store.db import as_utc
from footy.store.report import (
    api_requests_today,
    expired_fixtures,
    fixture_counts,
    goal_counts,
    goal_summaries,
    nameless_goals,
    recent_errors,
    source_counts,
    stuck_claims,
    video_counts,
)
from footy.store.sources import paused_sources, windows


def collect(db, now: datetime | None = None) -> dict:
    return {
        "fixtures": fixture_counts(db),
        "api_football": api_requests_today(db, now),
        "paused_sources": paused_sources(db),
        "source_windows": windows(db),
        "expired_fixtures": expired_fixtures(db),
        "goals": goal_counts(db),
        "nameless_goals": nameless_goals(db),
        "clips": video_counts(db),
        "clips_by_source": source_counts(db),
        "publications": publications.counts(db, now),
        "uncertain_publications": [
            {"key": d["key"], "channel": d.get("channel"), "started_at": d.get("started_at")}
            for d in publications.uncertain(db, now)],
        "stuck_claims": stuck_claims(db),
        "errors": recent_errors(db),
    }


def render(report: dict) -> str:
    lines = ["fixtures:"]
    lines += [f"  {name:<22} {n:>6}" for name, n in report["fixtures"].items()]
    lines += [f"  expired: {f['label']}: {f['reason']}" for f in report["expired_fixtures"]]
    api = report["api_football"]
    left = f", {api['left']} left of {api['budget']}" if api.get("budget") else ""
    plan = (f"; polls every {api['interval_s']:.0f}s ({api['reason']})"
            if api.get("interval_s") else "")  # fmt: skip
    lines.append(f"api-football today: {api.get('used') or 0} requests used{left}{plan}")
    for name, window in sorted(report.get("source_windows", {}).items()):
        reset = as_utc(window["reset_at"])
        if reset > datetime.now(UTC):  # a past window says nothing about the current one
            lines.append(f"clip source {name}: {window['remaining']} of {window.get('limit')} "
                         f"requests left until {reset:%H:%M:%S} UTC")
    for name, pause in report["paused_sources"].items():
        lines.append(f"clip source {name}: PAUSED since {pause['at']:%Y-%m-%d %H:%M} UTC, "
                     f"credentials rejected ({pause['error']['type']}: "
                     f"{pause['error']['message'][:120]}); change its connection to resume")
    lines.append("goals:")
    lines += [f"  {stage:<22} {n:>6}" for stage, n in report["goals"].items()]
    nameless = report["nameless_goals"]
    lines.append(f"  {'unnamed scorer':<22} {nameless['unnamed']:>6}")
    lines += [f"  held: {h['label']}: {h['team']} {h['minute']}: {h['reason']}"
              for h in nameless["held"]]  # fmt: skip
    lines.append("clips:")
    lines += [f"  {state:<22} {n:>6}" for state, n in sorted(report["clips"].items())] or [
        "  (none)"]
    for name, states in report["clips_by_source"].items():
        found = sum(states.values())
        lines.append(f"  from {name:<17} {found:>6}  (kept {states.get('kept', 0)}, "
                     f"duplicate {states.get('duplicate', 0)}, "
                     f"rejected {states.get('rejected', 0)})")
    published = report["publications"]
    if published:
        lines.append("publications: " + ", ".join(f"{k} {n}" for k, n in sorted(published.items())))
    lines += [f"  uncertain (the sender died mid-send; check the channel, then resolve): "
              f"{u['key']}" for u in report["uncertain_publications"]]
    lines.append(f"stuck claims: {len(report['stuck_claims'])}")
    lines += [
        f"  {c['stage']:<9} {c['goal_id']} (owner {c['owner']}, "
        f"expired {c['expired_at']:%H:%M:%S})"
        for c in report["stuck_claims"]
    ]
    errors = report["errors"]
    lines.append("errors by class:")
    for kind in ("goal_errors_by_class", "clip_errors_by_class"):
        for name, n in sorted(errors[kind].items(), key=lambda kv: -kv[1]):
            lines.append(f"  {kind.split('_')[0]:<5} {name:<28} {n:>5}")
    for err in errors["latest_goal_errors"][:5]:
        lines.append(f"  latest: {err['goal']}: {err['type']}: {err['message']}")
    return "\n".join(lines)


def render_goals(summaries: list[dict]) -> str:
    """The per-goal summary the demo ends with."""
    lines = [f"{'goal':<46} {'status':<10} {'found':>5} {'dups':>4} {'kept':>4}  "
             f"{'1st keeper':>10}  {'by source (found/kept)':<22}  rejected"]
    for g in summaries:
        first = g["seconds_to_first_keeper"]
        rejected = ", ".join(f"{k} x{n}" for k, n in sorted(g["rejected"].items())) or "-"
        by_source = " ".join(f"{name} {n}/{g['kept_by_source'].get(name, 0)}"
                             for name, n in sorted(g["found_by_source"].items())) or "-"
        lines.append(
            f"{g['label'][:46]:<46} {g['status'] if not g['completed'] else 'completed':<10} "
            f"{g['clips_found']:>5} {g['duplicates']:>4} {len(g['keepers']):>4}  "
            f"{(f'{first:.0f}s' if first is not None else '-'):>10}  {by_source:<22}  {rejected}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m footy status", description=__doc__)
    parser.add_argument("--uri", default=None, help="MongoDB URI (default: $MONGO_URI)")
    parser.add_argument("--db", default=None, help="database (default: $FOOTY_MONGO_DB or footy)")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.add_argument("--goals", action="store_true", help="per-goal clip summary")
    parser.add_argument("--resolve", nargs=2, metavar=("KEY", "OUTCOME"),
                        help="an uncertain publication: 'sent' (it arrived) or 'failed' "
                             "(publish_clips sends it again at its next run)")
    args = parser.parse_args(argv)
    db = connect(args.uri, args.db)
    if args.resolve:
        key, outcome = args.resolve
        done = publications.resolve(db, key, outcome, "footy status --resolve", datetime.now(UTC))
        print(f"{key}: {'resolved as ' + outcome if done else 'not an uncertain publication'}")
        return 0 if done else 1
    report = {"goals": goal_summaries(db)} if args.goals else collect(db)
    if args.json:
        print(json.dumps(report, default=lambda v: v.isoformat() if isinstance(v, datetime)
                         else str(v), indent=2))
    elif args.goals:
        print(render_goals(report["goals"]))
    else:
        print(render(report))
    return 0
