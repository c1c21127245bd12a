"""How long `dialflow check`'s path exploration takes, and how many configurations it visits,
for the default flow and for a flow about twice its size (every waiting state but the
greeting copied once, the copy reached after a tool answers). Budget: under 2 s for the
default flow.

    python -m bench.check_bench [--runs 5]

Prints the median and worst wall time of the exploration (with every finding computed) and
the configurations visited; the default flow must also be clean.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.app.commands.check import known_names  # noqa: E402
from flows import load_flow  # noqa: E402
from flows.explore import explore_flow  # noqa: E402
from flows.yaml_lines import load_yaml  # noqa: E402

COPY = "_2"


def doubled(text: str) -> str:
    """The flow with a second copy of every non-final state but the first; `tool.done`
    leads into the copy."""
    raw, errors = load_yaml(text, "flows.yaml")
    assert not errors
    data = _plain(raw)
    states = data["states"]
    finals = {name for name, spec in states.items() if spec.get("final")}
    # the initial state's call.started branches (after hours) stay single: only the
    # initial state (not copied) leads to them
    started = states[data["initial"]].get("on", {}).get("call.started") or []
    branches = {h["to"] for h in started if isinstance(h, dict) and h.get("to")}
    for name in [n for n in states if n not in finals | branches and n != data["initial"]]:
        spec = dict(states[name])
        spec["on"] = {event: _renamed(value, finals)
                      for event, value in (spec.get("on") or {}).items()}
        states[name + COPY] = spec
    states["tool_running"]["on"]["tool.done"] = "thinking" + COPY
    return yaml.safe_dump(data, sort_keys=False)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _renamed(value: Any, finals: set[str]) -> Any:
    """A handler with every destination that is not final moved to its copy."""
    if isinstance(value, str):
        return value if value in finals else value + COPY
    if isinstance(value, list):
        return [_renamed(v, finals) for v in value]
    if isinstance(value, dict) and isinstance(value.get("to"), str):
        return {**value, "to": _renamed(value["to"], finals)}
    return value


def measure(path: Path, runs: int) -> tuple[list[float], int, int, int]:
    flow = load_flow(path)
    tools, builtin, providers = known_names(flow)
    text = path.read_text(encoding="utf-8")
    times, report = [], None
    for _ in range(runs):
        started = time.perf_counter()
        report = explore_flow(flow, text, tools, builtin, providers)
        times.append(time.perf_counter() - started)
    assert report is not None
    return times, report.configurations, len(report.findings), len(flow.states)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    default = ROOT / "flows.yaml"
    with tempfile.TemporaryDirectory() as tmp:
        big = Path(tmp) / "flows_x2.yaml"
        big.write_text(doubled(default.read_text(encoding="utf-8")), encoding="utf-8")
        rows = [("default flows.yaml", *measure(default, args.runs)),
                ("twice its size", *measure(big, args.runs))]
    print(f"{'flow':<20} {'states':>6} {'configs':>8} {'findings':>8} "
          f"{'median ms':>10} {'max ms':>8}")
    for name, times, configs, findings, states in rows:
        print(f"{name:<20} {states:>6} {configs:>8} {findings:>8} "
              f"{statistics.median(times) * 1000:>10.1f} {max(times) * 1000:>8.1f}")
    budget_ok = max(rows[0][1]) < 2.0 and rows[0][3] == 0
    print("budget (default flow < 2 s, no findings):", "met" if budget_ok else "MISSED")
    return 0 if budget_ok else 1


if __name__ == "__main__":
    sys.exit(main())
