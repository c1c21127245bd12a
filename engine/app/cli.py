"""The `dialflow` command: one console entry point whose subcommands live in the modules
listed in `COMMAND_MODULES`; each module adds its parsers through `register(subparsers)`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
from collections.abc import Sequence

from engine.scripts.format import ScriptInvalid
from flows import FlowInvalid

COMMAND_MODULES = (
    "engine.app.commands.check",
    "engine.app.commands.test",
    "engine.app.commands.diagram",
    "engine.app.commands.demo",
    "engine.app.commands.serve",
    "engine.app.commands.call",
    "engine.app.commands.dial",
    "engine.app.commands.replay",
    "engine.app.commands.calls",
    "engine.app.commands.purge",
    "engine.app.server.console.command",
    "knowledge.cli",
    "tools.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dialflow", description="Phone-call AI agents as explicit state machines.")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug details")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # an optional part that is not installed
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except (FlowInvalid, ScriptInvalid) as exc:  # demo, call…: the file's errors, no traceback
        print(f"dialflow {args.command}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
