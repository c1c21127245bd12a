"""The explorer's abstract call agrees with the engine: replaying the path to a sample of the
configurations it visits as an event script ends the real call (engine/call.py, the fakes,
virtual time) in the state the explorer predicted. Paths through the call-level watchdog are
left out: it fires after minutes, so a replay cannot hold every other timer back."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from engine.app.commands.check import examine
from engine.scripts import load_script, run_script
from flows.explore.config import WATCHDOG
from flows.explore.finding import Finding, Witness
from flows.explore.script import witness_script
from flows.explore.search import explore

ROOT = Path(__file__).resolve().parents[2]
FLOWS = [ROOT / "flows.yaml", ROOT / "tests" / "check" / "fixtures" / "flows_before_issue10.yaml"]
STRIDE = 7  # every 7th configuration: a spread of states, counters, timers and tasks


@pytest.mark.parametrize("flow_path", FLOWS, ids=["default", "before-issue-10"])
def test_replayed_paths_end_where_the_explorer_says(flow_path: Path, tmp_path: Path) -> None:
    flow, _, report = examine(str(flow_path))
    assert flow is not None and report is not None and report.rules is not None
    graph = explore(report.rules)
    probes = 0
    for index, c in enumerate(graph.order):
        path = graph.path_to(c)
        if index % STRIDE or c.state not in flow.states or c.cleared or any(
                m.stimulus.kind == WATCHDOG for m in path):
            continue
        probe = Finding("probe", "error", str(flow_path), 1, f"reach {c}", "",
                        Witness(tuple(path), {"state": c.state}))
        script = tmp_path / f"probe{index}.yaml"
        script.write_text(yaml.safe_dump(witness_script(report.rules, probe,
                                                        str(flow_path))), encoding="utf-8")
        result = run_script(load_script(script))
        assert result.passed, ([m.stimulus.label() for m in path], result.failures)
        probes += 1
    assert probes >= 15
