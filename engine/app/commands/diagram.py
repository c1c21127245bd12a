"""`dialflow diagram [FILE] [--format mermaid|svg|png] [-o OUT] [--trace SCRIPT]`: draw a flow.

Mermaid text needs nothing but Python and goes to stdout unless `-o` is given; svg and png
are drawn by Graphviz's `dot` (`apt-get install graphviz`) and need `-o`. Without
`--format`, an OUT ending in .svg or .png picks that format, anything else gets Mermaid.
`--trace SCRIPT` runs an event script against FILE and highlights the states it visited
(and, in svg/png, the transitions it took). Exit 1 on an invalid flow or script, or when
the image cannot be drawn; 2 on a bad combination of options.

Touches: reads FILE and SCRIPT, writes OUT (or stdout), and runs `dot` through
`flows/diagram_dot.py`; the drawing itself lives in `flows/diagram*.py`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from engine.scripts import ScriptInvalid, load_script, run_script
from flows import FlowInvalid, check_flow
from flows.diagram import Highlight, build_diagram, highlight_trace
from flows.diagram_dot import IMAGE_FORMATS, DiagramError, render_dot, render_image
from flows.diagram_mermaid import render_mermaid
from flows.model import Flow

DEFAULT_FLOW = "flows.yaml"
FORMATS = ("mermaid", *IMAGE_FORMATS)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("diagram", help="draw a flow as Mermaid, SVG or PNG",
                                   description=__doc__.split("\n\nTouches:")[0],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", default=DEFAULT_FLOW, help="the flow file "
                        f"(default: {DEFAULT_FLOW})")
    parser.add_argument("--format", "-f", choices=FORMATS,
                        help="mermaid (default), svg or png")
    parser.add_argument("-o", "--output", metavar="OUT", help="write here (required for svg "
                        "and png; mermaid goes to stdout without it)")
    parser.add_argument("--trace", metavar="SCRIPT", help="run this event script and "
                        "highlight the states (and svg/png: the transitions) it went through")
    parser.add_argument("--no-actions", action="store_true",
                        help="leave behaviours (`/ say …`) off the labels for a compact view")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    fmt = args.format or _format_for(args.output)
    if fmt in IMAGE_FORMATS and not args.output:
        print(f"dialflow diagram: --format {fmt} needs -o OUT (the image file to write)",
              file=sys.stderr)
        return 2
    flow = _load(args.file)
    if flow is None:
        return 1
    highlight = None
    if args.trace:
        highlight = _trace(flow, args.trace)
        if highlight is None:
            return 1
    diagram = build_diagram(flow, actions=not args.no_actions)
    try:
        if fmt == "mermaid":
            text = render_mermaid(diagram, highlight)
            if not args.output:
                sys.stdout.write(text)
                return 0
            Path(args.output).write_text(text, encoding="utf-8")
        else:
            render_image(render_dot(diagram, highlight), fmt, args.output)
    except DiagramError as exc:
        print(f"dialflow diagram: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"dialflow diagram: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return 1
    print(f"wrote {args.output} ({fmt})")
    return 0


def _format_for(output: str | None) -> str:
    suffix = Path(output).suffix.lower().lstrip(".") if output else ""
    return suffix if suffix in IMAGE_FORMATS else "mermaid"


def _load(path: str) -> Flow | None:
    """The flow, or None after printing its errors; warnings are printed and let through."""
    flow, problems = check_flow(path)
    for problem in problems:
        print(problem, file=sys.stderr)
    errors = [p for p in problems if p.severity == "error"]
    if errors or flow is None:
        print(f"{path}: {len(errors)} error(s); nothing drawn", file=sys.stderr)
        return None
    return flow


def _trace(flow: Flow, script_path: str) -> Highlight | None:
    """Run the script against `flow` (not the script's own `flow:`) and collect its path."""
    try:
        result = run_script(load_script(script_path), flow)
    except (ScriptInvalid, FlowInvalid, OSError) as exc:
        print(f"dialflow diagram: cannot run {script_path}:\n{exc}", file=sys.stderr)
        return None
    if not result.passed:
        print(f"warning: {script_path} did not meet its expectations; drawing the path it "
              "took anyway", file=sys.stderr)
    return highlight_trace(flow, result.trace)
