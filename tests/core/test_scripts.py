"""Event scripts as a whole: same trace every run, failures point at the script's line, and
editing flows.yaml changes behaviour with no code change."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.app.cli import main
from engine.scripts import load_script, run_script
from engine.scripts.report import format_result
from flows import load_flow_text

SILENT_THREE_TIMES = """
name: with max 3 reprompts the caller is asked three times
steps:
  - event: call.started
  - event: agent.playback_done
  - after: 8s
    expect: {said: reprompt}
  - event: agent.playback_done
  - after: 8s
    expect: {said: reprompt}
  - event: agent.playback_done
  - after: 8s
    expect: {said: reprompt, state: listening, counters: {reprompts: 3}}
  - event: agent.playback_done
  - after: 8s
    expect: {state: escalating}
"""


def test_every_script_gives_the_same_trace_twice(scripts_dir: Path) -> None:
    files = sorted(scripts_dir.glob("*.yaml"))
    assert len(files) >= 12
    for file in files:
        first = run_script(load_script(file))
        second = run_script(load_script(file))
        assert first.passed, format_result(first)
        assert first.trace.format() == second.trace.format()


def test_editing_max_reprompts_changes_behaviour(tmp_path: Path, default_flow_text: str) -> None:
    script_path = tmp_path / "scripts" / "three.yaml"
    script_path.parent.mkdir()
    script_path.write_text(SILENT_THREE_TIMES)
    (tmp_path / "flows.yaml").write_text(default_flow_text)
    with_two = run_script(load_script(script_path))
    assert not with_two.passed
    assert any("expected said 'reprompt'" in f for f in with_two.failures)

    edited = default_flow_text.replace("reprompts: {max: 2}", "reprompts: {max: 3}")
    assert edited != default_flow_text
    (tmp_path / "flows.yaml").write_text(edited)
    with_three = run_script(load_script(script_path))
    assert with_three.passed, format_result(with_three)


def test_failure_shows_expected_actual_and_script_line(tmp_path: Path,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    script = tmp_path / "wrong.yaml"
    flow = Path(__file__).resolve().parents[2] / "flows.yaml"
    script.write_text(f"flow: {flow}\nsteps:\n  - event: call.started\n"
                      "    expect: {state: listening}\n")
    assert main(["test", str(script)]) == 1
    out = capsys.readouterr().out
    assert f"{script}:4: step 'call.started': expected state 'listening', got 'greeting'" in out
    assert "-- line 3: call.started" in out
    assert "call.started            -> greeting  [say greeting]" in out


def test_unanswered_brain_is_a_script_problem(tmp_path: Path) -> None:
    script = tmp_path / "scripts" / "no_llm.yaml"
    script.parent.mkdir()
    flow = Path(__file__).resolve().parents[2] / "flows.yaml"
    script.write_text(f"flow: {flow}\nsteps:\n  - event: call.started\n"
                      "  - event: agent.playback_done\n  - caller: hello\n")
    result = run_script(load_script(script))
    assert any("no llm answer left" in f for f in result.failures)


def test_script_can_run_against_another_flow(scripts_dir: Path, default_flow_text: str) -> None:
    flow, _ = load_flow_text(default_flow_text.replace("after: 8s, event: timer.silence",
                                                       "after: 5s, event: timer.silence"))
    assert flow is not None
    script = load_script(scripts_dir / "faq_answer.yaml")
    assert run_script(script).passed
    result = run_script(script, flow)
    assert not result.passed  # the reprompt now comes at 5 s, not after 8 s of silence
    assert any("expected said []" in f for f in result.failures)


def test_cli_runs_the_suite(capsys: pytest.CaptureFixture[str], scripts_dir: Path) -> None:
    assert main(["test", str(scripts_dir)]) == 0
    out = capsys.readouterr().out
    count = len(list(scripts_dir.glob("*.yaml")))
    assert f"{count} passed, 0 failed" in out
