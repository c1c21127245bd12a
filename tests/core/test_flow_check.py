"""`dialflow check` and the loader: every kind of mistake names the file, the line and a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.app.cli import main
from flows import FlowInvalid, load_flow, load_flow_text


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def _errors(text: str) -> list:
    _, problems = load_flow_text(text, "flows.yaml")
    return [p for p in problems if p.severity == "error"]


def test_default_flow_is_valid(default_flow_text: str) -> None:
    assert _errors(default_flow_text) == []
    assert main(["check", "flows.yaml"]) == 0


@pytest.mark.parametrize(
    ("old", "new", "message", "fix"),
    [
        ("agent.playback_done: listening", "agent.playback_done: listenning",
         "transition to unknown state 'listenning'", "did you mean 'listening'"),
        ("caller.transcript: {do: [restart_timer]}", "caller.transcrpt: {do: [restart_timer]}",
         "unknown event 'caller.transcrpt'", "did you mean 'caller.transcript'"),
        ("enter: [respond,", "enter: [respnd,", "unknown action 'respnd'", "'respond'"),
        ("enter: [{say: greeting}]", "enter: [{say: greting}]", "missing prompt 'greting'",
         "add `greting:"),
        ("enter: [run_tool,", "enter: [os.system,", "unknown action 'os.system'",
         "never import paths"),
        ("- if: {below_limit: reprompts}", "- if: {below_limit: reprompt}",
         "unknown counter 'reprompt'", "counters:"),
        ("caller.speech_started: {if: long_enough, to: barge_in}",
         "caller.speech_started: {if: loud_enough, to: barge_in}",
         "unknown guard 'loud_enough'", "long_enough"),
        ("timeout: {after: 10s, event: timer.tool}", "timeout: {after: 10 secs, event: timer.tool}",
         "is not a duration", "8s"),
        ("initial: greeting", "initial: greet", "initial state 'greet' does not exist",
         "greeting"),
        ("  reprompts: {max: 2}", "  reprompts: {max: two}", "counter 'reprompts' needs",
         "{max: 2}"),
        ("    min_speech_ms: 300", "    min_speech_ms: fast", "settings.barge_in.min_speech_ms",
         "milliseconds"),
        ("  escalation:", "  escalaton:", "unknown settings section 'escalaton'", "escalation"),
    ],
)
def test_each_mistake_names_line_and_fix(default_flow_text: str, old: str, new: str,
                                          message: str, fix: str) -> None:
    assert old in default_flow_text
    text = default_flow_text.replace(old, new, 1)
    errors = _errors(text)
    match = [e for e in errors if message in e.message]
    assert match, [str(e) for e in errors]
    assert match[0].line == _line_of(text, new.strip().split(":")[0].strip("- ")) or \
        match[0].line == _line_of(text, new.strip())
    assert fix in match[0].fix
    assert match[0].path == "flows.yaml"


def test_waiting_state_without_timeout(default_flow_text: str) -> None:
    text = default_flow_text.replace("    timeout: {after: 10s, event: timer.tool}\n", "", 1)
    errors = _errors(text)
    messages = [e.message for e in errors]
    assert "state 'tool_running' waits for events but has no timeout" in messages
    error = next(e for e in errors if "no timeout" in e.message)
    assert error.line == _line_of(text, "  tool_running:")


def test_unreachable_state_and_state_without_way_out() -> None:
    text = """
name: tiny
initial: a
states:
  a:
    timeout: {after: 1s, event: timer.silence}
    on:
      timer.silence: done
  island:
    timeout: {after: 1s, event: timer.silence}
    on:
      timer.silence: done
  stuck:
    timeout: {after: 1s, event: timer.silence}
    on:
      timer.silence: stuck
  done: {final: true}
"""
    errors = _errors(text)
    by_message = {e.message: e.line for e in errors}
    assert by_message["state 'island' is unreachable from 'a'"] == 9
    assert by_message["state 'stuck' is not final but has no way out"] == 13


def test_timer_raised_but_not_handled() -> None:
    text = """
initial: a
states:
  a:
    timeout: {after: 1s, event: timer.silence}
    on:
      call.hangup: done
  done: {final: true}
"""
    errors = _errors(text)
    assert any("raises timer.silence but does not handle it" in e.message and e.line == 5
               for e in errors)


def test_yaml_syntax_error_and_duplicate_key() -> None:
    errors = _errors("initial: a\nstates:\n  a: {final: true\n")
    assert errors and "not valid YAML" in errors[0].message
    errors = _errors("initial: a\nstates:\n  a: {final: true}\n  a: {final: true}\n")
    assert any("'a' is given twice (first on line 3)" in e.message and e.line == 4
               for e in errors)


def test_yaml_on_is_a_word_not_a_boolean() -> None:
    flow, problems = load_flow_text(
        "initial: a\nstates:\n  a:\n    timeout: {after: 1s, event: timer.silence}\n"
        "    on: {timer.silence: b}\n  b: {final: true}\n", "f.yaml")
    assert [p for p in problems if p.severity == "error"] == []
    assert flow is not None and flow.transitions_from("a")[0].dest == "b"


def test_check_command_exit_codes(tmp_path: Path, default_flow_text: str,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    text = default_flow_text.replace("agent.playback_done: listening",
                                     "agent.playback_done: nowhere", 1)
    bad.write_text(text)
    assert main(["check", str(bad)]) == 1
    err = capsys.readouterr().err
    line = _line_of(text, "agent.playback_done: nowhere")
    assert f"{bad}:{line}: error: transition to unknown state 'nowhere'" in err
    assert main(["check", str(tmp_path / "missing.yaml")]) == 1


def test_invalid_flow_never_loads(tmp_path: Path) -> None:
    path = tmp_path / "flows.yaml"
    path.write_text("initial: a\nstates:\n  a: {on: {bogus.event: a}}\n")
    with pytest.raises(FlowInvalid) as info:
        load_flow(path)
    assert "unknown event 'bogus.event'" in str(info.value)
