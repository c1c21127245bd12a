"""`dialflow test [PATHS]`: run event scripts on virtual time; print expected vs actual
traces for failures; exit 1 if any script fails."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.app.commands import test_from_call
from engine.app.commands.quiet_logs import quiet_logs
from engine.scripts import ScriptInvalid, load_script, run_script
from engine.scripts.report import format_result
from flows import FlowInvalid

DEFAULT_PATHS = ("tests/scripts",)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("test", help="run event scripts", description=__doc__)
    parser.add_argument("paths", nargs="*", default=list(DEFAULT_PATHS))
    parser.add_argument("--flow", help="run the scripts against this flow file instead")
    parser.add_argument("--trace", action="store_true", help="print every trace, not only "
                        "those of failures")
    test_from_call.add_arguments(parser)
    parser.set_defaults(func=run)


def script_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        files += sorted(path.glob("*.yaml")) + sorted(path.glob("*.yml")) if path.is_dir() \
            else [path]
    return files


def _missing(paths: list[str], flow: str | None) -> str:
    """One line naming a path that does not exist, or ""."""
    for raw in paths:
        if not Path(raw).exists():
            return (f"no such file or folder: {raw} (give event scripts or folders of them, "
                    "e.g. tests/scripts)")
    if flow and not Path(flow).is_file():
        return f"--flow {flow}: no such flow file (give the path of a flows.yaml)"
    return ""


def run(args: argparse.Namespace) -> int:
    with quiet_logs(args.verbose):  # scripted failures are in the trace already
        return _run(args)


def _run(args: argparse.Namespace) -> int:
    if getattr(args, "from_call", None):
        return test_from_call.run(args)
    files = script_files(args.paths)
    if not files:
        print("no event scripts found in " + ", ".join(args.paths))
        return 1
    problem = _missing(args.paths, args.flow)
    if problem:
        print(f"dialflow test: error: {problem}")
        return 2
    failed = 0
    for file in files:
        try:
            result = run_script(load_script(file, args.flow))
        except (ScriptInvalid, FlowInvalid) as exc:
            failed += 1
            print(f"ERROR {file}\n{exc}")
            continue
        failed += not result.passed
        print(format_result(result, show_trace=args.trace))
    print(f"{len(files) - failed} passed, {failed} failed")
    return 1 if failed else 0
