"""`dialflow demo`: a short scripted phone call through the default flow with fake adapters,
printed as a timestamped transcript of states, caller lines and agent lines.

It runs the same engine and event-script runner as `dialflow test`, on virtual time, so it
needs no keys, no network and no audio.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.scripts import load_script, run_script
from engine.scripts.runner import ScriptResult

DEMO_SCRIPT = Path(__file__).with_name("demo_call.yaml")
REPO_FLOW = Path(__file__).resolve().parents[3] / "flows.yaml"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="place a scripted demo call", description=__doc__)
    parser.add_argument("--flow", help="flow file (default: ./flows.yaml, else the bundled one)")
    parser.add_argument("--script", default=str(DEMO_SCRIPT), help="event script to play")
    parser.set_defaults(func=run)


def default_flow() -> Path:
    local = Path("flows.yaml")
    return local if local.exists() else REPO_FLOW


def run(args: argparse.Namespace) -> int:
    flow = Path(args.flow) if args.flow else default_flow()
    result = run_script(load_script(args.script, flow))
    print(f"dialflow demo — {flow}")
    print("\n".join(transcript(result)))
    if not result.passed:
        print("\n".join(result.failures))
        return 1
    return 0


def transcript(result: ScriptResult) -> list[str]:
    """States, caller lines, agent lines and actions, ordered by time."""
    lines: list[tuple[float, int, str]] = []
    for entry in result.trace.entries:
        if entry.event == "caller.utterance":
            lines.append((entry.at, 0, f"CALLER  {entry.data.get('text', '')}"))
        elif entry.event == "caller.dtmf":
            lines.append((entry.at, 0, f"CALLER  presses {entry.data.get('digit')}"))
        elif entry.event == "llm.tool_call" and entry.handled:
            lines.append((entry.at, 1, f"        tool {entry.data.get('name')}"
                                       f"({entry.data.get('args') or ''})"))
        if entry.handled and entry.after != entry.before:
            lines.append((entry.at, 1, f"        [{entry.after}]"))
    labels = {"said": "AGENT   {}", "transfer": "        transfer to {}",
              "hung_up": "        hang up", "ticket": "        ticket {}"}
    for record in result.world.records if result.world else []:
        if record.kind in labels:
            lines.append((record.at, 2, labels[record.kind].format(record.detail)))
    return [f"{_clock(at)}  {text}" for at, _, text in sorted(lines, key=lambda x: (x[0], x[1]))]


def _clock(seconds: float) -> str:
    minutes, rest = divmod(seconds, 60)
    return f"{int(minutes):02d}:{rest:06.3f}"
