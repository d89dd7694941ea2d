"""``python -m footy <command> ...``: the operator's command line.

Each command lives in its own module and is imported only when asked for, so a slow or
heavy dependency of one command (OpenCV, say) never burdens another.
"""

from __future__ import annotations

import importlib
import sys

COMMANDS = {
    "dedup": ("footy.dedup.cli", "Cluster clips of one goal and name the keeper of each"),
    "status": ("footy.status", "Goals per stage, stuck claims, recent errors"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help"} or argv[0] not in COMMANDS:
        print("usage: python -m footy <command> [args...]\n\ncommands:")
        for name, (_, summary) in COMMANDS.items():
            print(f"  {name:<10} {summary}")
        return 0 if argv and argv[0] in {"-h", "--help"} else 2
    module = importlib.import_module(COMMANDS[argv[0]][0])
    return int(module.main(argv[1:]) or 0)


if __name__ == "__main__":
    sys.exit(main())
