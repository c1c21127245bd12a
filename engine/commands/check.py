"""`dialflow check [FILE]`: validate a flow file; print every problem; exit 1 on errors."""

from __future__ import annotations

import argparse
import sys

from flows import check_flow
from states.registry import ACTIONS, GUARDS

DEFAULT_FLOW = "flows.yaml"


def register(subparsers: argparse._SubParsersAction) -> None:
    epilog = "behaviours: " + ", ".join(sorted(ACTIONS)) + "\nguards: " + ", ".join(sorted(GUARDS))
    parser = subparsers.add_parser("check", help="validate a flows.yaml",
                                   description=__doc__, epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", default=DEFAULT_FLOW)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    flow, problems = check_flow(args.file)
    for problem in problems:
        print(problem, file=sys.stderr)
    errors = [p for p in problems if p.severity == "error"]
    if errors or flow is None:
        print(f"{args.file}: {len(errors)} error(s)", file=sys.stderr)
        return 1
    print(f"{args.file}: ok — {len(flow.states)} states, {len(flow.transitions)} transitions")
    return 0
