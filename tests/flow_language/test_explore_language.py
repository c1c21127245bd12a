"""The path exploration of `dialflow check` covers the clock branches at the start, follows
variables set to literals, and its witnesses set the clock that takes them."""

from __future__ import annotations

from pathlib import Path

import yaml

from engine.app.commands.check import examine
from engine.scripts import load_script, run_script
from flows.explore.script import write_witnesses
from flows.explore.search import explore

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = (ROOT / "flows.yaml").read_text(encoding="utf-8")


def test_the_default_flow_is_clean_and_every_greeting_is_explored() -> None:
    flow, findings, report = examine(str(ROOT / "flows.yaml"))
    assert flow is not None and not findings
    graph = explore(report.rules)
    states = {c.state for c in graph.order}
    assert {"greeting", "after_hours", "closed_holiday", "message_name",
            "message_text"} <= states
    # after_hours is followed exactly: the message states are reached only with it set, or
    # once a warm transfer found nobody (busy, no answer, canceled)
    index = report.rules.var_names.index("after_hours")
    assert all(c.vars[index] is True or c.transfer_failed
               for c in graph.order if c.state.startswith("message_"))
    assert any(c.vars[index] is not True for c in graph.order if c.state == "message_name")
    starts = {m.after.state: m.stimulus.clock for m in graph.moves[graph.start.after]}
    assert set(starts) == {"greeting", "after_hours", "closed_holiday"}
    assert starts["closed_holiday"][:10] in ("2026-12-24", "2026-12-25")


def test_lost_input_after_hours_has_a_witness_that_sets_the_clock(tmp_path: Path) -> None:
    line = "      caller.utterance: {if: understood, to: thinking, do: [stop_speaking]}\n"
    closed = DEFAULT.index("  after_hours:\n")
    broken = DEFAULT[:closed] + DEFAULT[closed:].replace(line, "", 1)
    # closed_holiday shares the handlers (YAML anchor): both lose the caller's words
    flow_path = tmp_path / "flows.yaml"
    flow_path.write_text(broken, encoding="utf-8")
    _, findings, report = examine(str(flow_path))
    lost = [f for f in findings if f.kind == "lost-input" and "'after_hours'" in f.message]
    assert lost, [str(f.message) for f in findings]
    [path] = write_witnesses(report.rules, lost[:1], tmp_path / "w", str(flow_path))
    script = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert script["clock"] and script["clock"][:10] not in ("2026-12-24", "2026-12-25")
    on_broken = run_script(load_script(path))
    assert not on_broken.passed
    assert on_broken.trace.entries[0].after == "after_hours"
    assert run_script(load_script(path, ROOT / "flows.yaml")).passed


def test_a_guard_on_a_variable_set_from_an_event_is_explored_both_ways(tmp_path: Path) -> None:
    old = '        - {if: [{digit: "2"}, {is: after_hours}], to: message_name}\n'
    text = DEFAULT.replace(old, old.replace("is: after_hours", "is: caller_name"), 1)
    flow_path = tmp_path / "flows.yaml"
    flow_path.write_text(text, encoding="utf-8")
    _, _, report = examine(str(flow_path))
    assert "caller_name" not in report.rules.var_names  # set from a template: not followed
    graph = explore(report.rules)
    guesses = [m for c in graph.order for m in graph.moves[c]
               if m.stimulus.guessed and c.state == "listening"]
    assert {m.after.state for m in guesses} >= {"listening", "message_name"}
