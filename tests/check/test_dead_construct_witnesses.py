"""Dead constructs come with a witness too where one exists: the event sequence that should
take the transition, and the state it should reach (another one runs instead)."""

from __future__ import annotations

from pathlib import Path

from engine.app.commands.check import examine
from engine.scripts import load_script, run_script
from flows.explore.script import write_witnesses

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = (ROOT / "flows.yaml").read_text(encoding="utf-8")


def test_a_shadowed_transition_is_shown_never_running(tmp_path: Path) -> None:
    first = "        - {if: {tool: end_call}, to: goodbye}\n"
    text = DEFAULT.replace(first, "        - tool_running\n" + first, 1)
    flow_path = tmp_path / "flows.yaml"
    flow_path.write_text(text, encoding="utf-8")
    _, findings, report = examine(str(flow_path))
    shadowed = [f for f in findings if f.kind == "shadowed" and f.witness is not None]
    assert shadowed and all(f.severity == "warning" for f in shadowed)
    [path, *_] = write_witnesses(report.rules, shadowed, tmp_path / "w", str(flow_path))
    broken = run_script(load_script(path))
    assert not broken.passed and "expected state 'goodbye', got 'tool_running'" in \
        broken.failures[-1]
    assert run_script(load_script(path, ROOT / "flows.yaml")).passed


def test_a_call_started_handler_is_shown_never_firing(tmp_path: Path) -> None:
    text = DEFAULT.replace("      timer.greeting: listening\n",
                           "      timer.greeting: listening\n      call.started: listening\n", 1)
    flow_path = tmp_path / "flows.yaml"
    flow_path.write_text(text, encoding="utf-8")
    _, findings, report = examine(str(flow_path))
    [dead] = [f for f in findings if "call.started never" in f.message]
    [path] = write_witnesses(report.rules, [dead], tmp_path / "w", str(flow_path))
    result = run_script(load_script(path))
    assert not result.passed and "expected state 'listening', got 'greeting'" in \
        result.failures[0]
