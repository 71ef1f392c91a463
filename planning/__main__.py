"""``python -m planning plan|ledger|reliability|fault ...`` — see docs/planning.md and docs/faults.md."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = {"plan": "planning.outages.cli", "ledger": "planning.outages.ledger_cli",
                "reliability": "planning.reliability_cli", "fault": "planning.faults.cli"}
    if not argv or argv[0] not in commands:
        print("usage: python -m planning {plan|ledger|reliability|fault} [options]  (--help after a command for its options)", file=sys.stderr)
        return 2
    import importlib

    cli = importlib.import_module(commands[argv[0]])
    return int(cli.main(argv[1:]))


if __name__ == "__main__":
    sys.exit(main())
