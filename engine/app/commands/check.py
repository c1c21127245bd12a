"""`dialflow check [FILE]`: validate a flow file and explore every path a call can take.

Prints every problem with its file, line and fix; findings of the path exploration come
with a witness (the shortest event sequence that shows them), which `--witness DIR` writes
as event scripts that `dialflow test` runs. Exit 1 on errors (and on warnings with
`--strict`); `--json` prints the findings as JSON for editors and CI.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from flows import check_flow
from flows.explore import ERROR, Finding, Report, explore_flow
from flows.explore.script import write_witnesses
from flows.model import Flow
from flows.signatures import behaviours, guards

DEFAULT_FLOW = "flows.yaml"


def register(subparsers: argparse._SubParsersAction) -> None:
    epilog = ("behaviours: " + ", ".join(sorted(behaviours())) + "\nguards: "
              + ", ".join(sorted(guards())))
    parser = subparsers.add_parser("check", help="validate a flows.yaml and explore its paths",
                                   description=__doc__, epilog=epilog,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", default=DEFAULT_FLOW)
    parser.add_argument("--strict", action="store_true", help="fail on warnings too")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.add_argument("--witness", metavar="DIR",
                        help="write one event script per finding into DIR")
    parser.set_defaults(func=run)


def known_names(flow: Flow) -> tuple[frozenset[str], frozenset[str], dict[str, frozenset[str]]]:
    """(every tool the brain may call, the built-in tool names, provider names per slot)."""
    from adapters.llm.tools import FLOW_TOOL_NAMES  # the CLI is wiring: it may name them
    from engine.providers import provider_names
    from tools.builtin import BUILTIN_TOOL_NAMES

    builtin = frozenset(BUILTIN_TOOL_NAMES | FLOW_TOOL_NAMES)
    http = frozenset(str(t.get("name", "")) for t in flow.http_tools)
    providers = provider_names()
    return builtin | http, builtin, providers


def examine(path: str) -> tuple[Flow | None, list[Finding], Report | None]:
    """Load and explore `path`: (the flow, every problem as a finding, the exploration)."""
    flow, problems = check_flow(path)
    findings = [Finding("invalid", p.severity, p.path, p.line, p.message, p.fix)
                for p in problems]
    if flow is None or any(p.severity == ERROR for p in problems):
        return flow, findings, None  # no exploration of a broken file: no follow-on errors
    tools, builtin, providers = known_names(flow)
    text = Path(path).read_text(encoding="utf-8")
    try:
        report = explore_flow(flow, text, tools, builtin, providers)
    except Exception as exc:  # a bug in the checker must not look like a broken flow file
        return flow, [*findings, Finding(
            "internal", ERROR, path, 1, f"the path exploration failed: {type(exc).__name__}: "
            f"{exc}", "this is a bug in dialflow check: please report it with this flow")], None
    return flow, findings + report.findings, report


def run(args: argparse.Namespace) -> int:
    flow, findings, report = examine(args.file)
    errors = [f for f in findings if f.severity == ERROR]
    failing = findings if args.strict else errors
    if args.witness and report is not None and report.rules is not None:
        written = write_witnesses(report.rules, findings, Path(args.witness), args.file)
        print(f"wrote {len(written)} witness script(s) to {args.witness}"
              + (f"; `dialflow test {args.witness}` replays them" if written else ""),
              file=sys.stderr)
    if args.json:
        print(json.dumps({"file": args.file, "ok": not failing,
                          "configurations": report.configurations if report else 0,
                          "findings": [f.as_json() for f in findings]}, indent=2))
        return 1 if failing else 0
    for finding in findings:
        print(finding, file=sys.stderr)
    if failing or flow is None:
        warnings = len(findings) - len(errors)
        print(f"{args.file}: {len(errors)} error(s), {warnings} warning(s)", file=sys.stderr)
        return 1
    explored = f", {report.configurations} configurations explored" if report else ""
    print(f"{args.file}: ok — {len(flow.states)} states, {len(flow.transitions)} "
          f"transitions{explored}")
    return 0
