"""The reminders example as flow language: its event scripts (a person, a machine, a late
detection) pass with the dial's variables in the prompts; `check` finds it clean, refuses each
way to write the detection wrong on its line, and its exploration delivers every answer."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.app.commands.check import examine
from engine.scripts.format import ScriptInvalid, load_script
from engine.scripts.runner import run_script
from flows.loader import load_flow_text
from tests.server.harness import ROOT

EXAMPLE = ROOT / "examples" / "reminders.yaml"
TEXT = EXAMPLE.read_text(encoding="utf-8")
SCRIPTS = sorted((ROOT / "examples" / "reminders").glob("*.yaml"))


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_the_scripts_pass(script: Path) -> None:
    result = run_script(load_script(script))
    assert result.passed, result.failures


def test_the_vars_reach_the_prompts_and_the_tool() -> None:
    result = run_script(load_script(EXAMPLE.parent / "reminders" / "human_reschedules.yaml"))
    said = [r.detail for r in result.world.records if r.kind == "said"]
    assert said[0].startswith("Hello Ana, this is Bright Smile Dental")
    assert "move it to Thursday, December 10th at 9 AM" in said[0]
    [tool] = [r.detail for r in result.world.records if r.kind == "tool"]
    assert tool == {"name": "reschedule_appointment",
                    "args": {"date": "2026-12-03", "time": "09:00",
                             "new_date": "2026-12-10", "new_time": "09:00"}}


def test_a_script_var_the_flow_does_not_declare_is_refused(tmp_path: Path) -> None:
    text = (EXAMPLE.parent / "reminders" / "human_confirms.yaml").read_text(encoding="utf-8")
    path = tmp_path / "bad.yaml"
    path.write_text(text.replace("flow: ../reminders.yaml", f"flow: {EXAMPLE}")
                    .replace("patient_name: Ana", "patient_nam: Ana"), encoding="utf-8")
    with pytest.raises(ScriptInvalid, match=r"bad.yaml:3: unknown var 'patient_nam'.*did you "
                       r"mean 'patient_name'"):
        run_script(load_script(path))


def test_the_example_is_clean() -> None:
    _, findings, report = examine(str(EXAMPLE))
    assert findings == [] and report is not None


BAD = [
    ("an answer Twilio never gives", "{answered_by: machine}, to: voicemail}",
     "{answered_by: machne}, to: voicemail}", "'machne' is not an answer", "'machine'"),
    ("an empty list", "{answered_by: fax}", "{answered_by: []}", "lists no answer", "e.g."),
    ("the guard on another event", "      caller.speech_started: {do: [restart_timer]}\n"
     "      agent.playback_done: {do: [restart_timer]}\n      call.answered_by:",
     "      caller.speech_started: {if: {answered_by: human}, do: [restart_timer]}\n"
     "      agent.playback_done: {do: [restart_timer]}\n      call.answered_by:",
     "tested on caller.speech_started", "under `call.answered_by:`"),
]


@pytest.mark.parametrize(("what", "old", "new", "message", "fix"), BAD,
                         ids=[b[0] for b in BAD])
def test_each_mistake_is_one_error_on_its_line(what: str, old: str, new: str, message: str,
                                               fix: str) -> None:
    assert old in TEXT, what
    text = TEXT.replace(old, new, 1)
    _, problems = load_flow_text(text, "reminders.yaml")
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 1 and message in errors[0].message, [str(e) for e in errors]
    assert "answered_by" in text.splitlines()[errors[0].line - 1]
    assert fix in errors[0].fix


def test_the_exploration_delivers_the_detection(tmp_path: Path) -> None:
    """A voicemail that waits forever after its timer is found through the machine answer."""
    path = tmp_path / "reminders.yaml"
    path.write_text(TEXT.replace("      timer.playback: ended\n",
                                 "      timer.playback: {do: []}\n", 1), encoding="utf-8")
    _, findings, _ = examine(str(path))
    stalls = [f for f in findings if f.kind == "stall"]
    assert stalls and "voicemail" in stalls[0].message
    assert "call.answered_by machine" in str(stalls[0])
