"""Each way to get the new vocabulary wrong gives one error, on the right line, with a fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.scripts.format import ScriptInvalid, load_script
from flows.loader import load_flow_text

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = (ROOT / "flows.yaml").read_text(encoding="utf-8")
HOLIDAY = "        - {if: holiday, to: closed_holiday, do: [{set: {after_hours: true}}]}\n"
OPEN = "        - {unless: open_now, to: after_hours, do: [{set: {after_hours: true}}]}\n"
REPEAT = '        - {if: {digit: "1"}, do: [repeat_last, restart_timer]}   # hear that again\n'

CASES = [
    # (what, old, new, words in the message, text of the offending line, words in the fix)
    ("time guard with an argument", HOLIDAY, HOLIDAY.replace("if: holiday", "if: {holiday: x}"),
     "takes no argument", "{holiday: x}", "write just `holiday`"),
    ("a day that is not a day", HOLIDAY, HOLIDAY.replace("if: holiday", "if: {day_of_week: sat}")
     .replace("sat", "saturday"), "'saturday' is not a day", "day_of_week", "mon, tue"),
    ("a time range that is not one", HOLIDAY,
     HOLIDAY.replace("if: holiday", 'if: {time_between: "9-5"}'), "is not a time range",
     "time_between", "HH:MM-HH:MM"),
    ("set of an undeclared variable", OPEN,
     OPEN.replace("{after_hours: true}", "{afterhours: true}"),
     "unknown variable 'afterhours'", "afterhours", "after_hours"),
    ("a guard on an undeclared variable", "{is: after_hours}", "{is: after_hour}",
     "unknown variable 'after_hour'", "after_hour", "after_hours"),
    ("equals with two variables", "{is: after_hours}",
     "{equals: {after_hours: true, caller_name: x}}", "compares one variable", "equals", "one"),
    ("above with a word", "{is: after_hours}", "{above: {caller_name: many}}",
     "compares with a number", "above", "number"),
    ("a set template naming nothing", '{caller_name: "{event.text}"}',
     '{caller_name: "{evnt.text}"}', "unknown name {evnt.text}", "evnt.text", "{event.<field>}"),
    ("a prompt naming an undeclared variable", "Thank you, {vars.caller_name}.",
     "Thank you, {vars.callername}.", "unknown name {vars.callername}", "ask_message:",
     "{vars.caller_name}"),
    ("a prompt naming a missing business key", "Thank you for calling {business.name}. We're",
     "Thank you for calling {business.nam}. We're", "unknown name {business.nam}",
     "after_hours: >-", "{business.name}"),
    ("a prompt naming an unknown thing", "Thank you for calling {business.name}. We're",
     "Thank you for calling {clinic}. We're", "unknown name {clinic}", "after_hours: >-",
     "{last_reply}"),
    ("a ticket reason naming an undeclared variable", "{take_message: the caller left no message}",
     '{take_message: "no message from {vars.callr_name}"}', "unknown name {vars.callr_name}",
     "take_message", "{vars.caller_name}"),
    ("a ticket reason that is not a text", "{take_message: the caller left no message}",
     "{take_message: [no, message]}", "takes a text", "take_message", "quote it"),
    ("repeat_last with an argument", REPEAT, REPEAT.replace("repeat_last", "{repeat_last: x}"),
     "takes no argument", "repeat_last", "write just `repeat_last`"),
    ("a variable that is not a literal", '  caller_name: ""', "  caller_name: [a, b]",
     "not a literal", "caller_name: [a, b]", 'caller_name: ""'),
    ("a variable name that is not a name", '  caller_name: ""', '  Caller-Name: ""',
     "not a plain name", "Caller-Name", "lower-case"),
]


@pytest.mark.parametrize(("what", "old", "new", "message", "line_text", "fix"), CASES,
                         ids=[c[0] for c in CASES])
def test_one_error_on_the_right_line(what: str, old: str, new: str, message: str,
                                     line_text: str, fix: str) -> None:
    assert old in DEFAULT, what
    text = DEFAULT.replace(old, new, 1)
    _, problems = load_flow_text(text, "flows.yaml")
    errors = [p for p in problems if p.severity == "error"]
    # a variable name that is not a name also leaves later uses unknown: that is the point
    if what != "a variable name that is not a name":
        assert len(errors) == 1, [str(e) for e in errors]
    error = next(e for e in errors if message in e.message)
    assert line_text in text.splitlines()[error.line - 1], (error.line, str(error))
    assert fix in error.fix


def test_time_guards_need_business_hours() -> None:
    flow = """
name: t
initial: a
settings: {business: {name: X}}
states:
  a:
    timeout: {after: 1s, event: timer.silence}
    on:
      call.started: {if: open_now, to: b}
      timer.silence: b
  b: {final: true}
"""
    _, problems = load_flow_text(flow, "f.yaml")
    [error] = [p for p in problems if "open_now" in p.message]
    assert error.line == 9 and "timezone" in error.message and "hours" in error.fix


def test_a_script_clock_must_be_a_moment(tmp_path: Path) -> None:
    script = tmp_path / "s.yaml"
    script.write_text(f"flow: {ROOT / 'flows.yaml'}\nclock: tomorrow evening\nsteps:\n"
                      "  - event: call.started\n", encoding="utf-8")
    with pytest.raises(ScriptInvalid, match=r"s.yaml:2: clock is a date and time"):
        load_script(script)
