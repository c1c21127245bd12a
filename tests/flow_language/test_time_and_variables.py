"""Time guards read the business calendar in its timezone; variables, templates, repeat_last
and the richer ticket do what the flow says, on the real engine."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from engine.scripts.format import load_script
from engine.scripts.runner import run_script
from flows import load_flow
from flows.signatures import GUARDS, StepContext
from states import registry as _registered  # noqa: F401  (the built-in guards)

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = Path(__file__).parent / "scripts"
FLOW = load_flow(ROOT / "flows.yaml")
NY = ZoneInfo("America/New_York")


def _holds(name: str, arg: object, moment: dt.datetime) -> bool:
    ctx = StepContext(FLOW, "greeting", "call.started", {}, {}, now=moment)
    return GUARDS[name].fn(ctx, arg)


@pytest.mark.parametrize(("local", "open_"), [
    ("2026-12-01T07:59", False), ("2026-12-01T08:00", True), ("2026-12-01T16:59", True),
    ("2026-12-01T17:00", False), ("2026-12-03T18:59", True), ("2026-12-06T10:00", False),
    ("2026-12-24T10:00", False), ("2026-12-05T12:30", True), ("2026-12-05T13:00", False),
])
def test_open_now_follows_hours_holidays_and_the_closing_minute(local: str, open_: bool) -> None:
    assert _holds("open_now", None, dt.datetime.fromisoformat(local).replace(tzinfo=NY)) is open_


def test_the_business_timezone_decides_not_utc() -> None:
    # 22:30 UTC on a Tuesday is 17:30 in New York: closed there, though 22:30 is not "hours"
    # anywhere and 13:30 UTC (08:30 NY) is open
    assert not _holds("open_now", None, dt.datetime(2026, 12, 1, 22, 30, tzinfo=dt.UTC))
    assert _holds("open_now", None, dt.datetime(2026, 12, 1, 13, 30, tzinfo=dt.UTC))
    # 02:00 UTC Wednesday is still Tuesday evening in New York
    assert _holds("day_of_week", "tue", dt.datetime(2026, 12, 2, 2, 0, tzinfo=dt.UTC))


def test_holiday_day_of_week_and_time_ranges() -> None:
    eve = dt.datetime(2026, 12, 24, 23, 59, tzinfo=NY)
    assert _holds("holiday", None, eve) and not _holds("holiday", None, eve + dt.timedelta(days=2))
    assert _holds("day_of_week", ["sat", "sun"], dt.datetime(2026, 12, 6, 9, tzinfo=NY))
    assert not _holds("day_of_week", ["sat", "sun"], dt.datetime(2026, 12, 7, 9, tzinfo=NY))
    night = "18:00-08:00"  # wraps midnight
    assert _holds("time_between", night, dt.datetime(2026, 12, 1, 23, 0, tzinfo=NY))
    assert _holds("time_between", night, dt.datetime(2026, 12, 1, 7, 59, tzinfo=NY))
    assert not _holds("time_between", night, dt.datetime(2026, 12, 1, 8, 0, tzinfo=NY))
    assert _holds("time_between", "12:00-13:00", dt.datetime(2026, 12, 1, 12, 0, tzinfo=NY))
    assert not _holds("time_between", "12:00-13:00", dt.datetime(2026, 12, 1, 13, 0, tzinfo=NY))


@pytest.mark.parametrize(("guard", "arg", "values", "want"), [
    ("is", "flag", {"flag": True}, True), ("is", "flag", {"flag": ""}, False),
    ("equals", {"plan": "gold"}, {"plan": "gold"}, True),
    ("equals", {"plan": "gold"}, {"plan": "silver"}, False),
    ("equals", {"n": 3}, {"n": "3"}, True),  # collected digits are text
    ("above", {"n": 2}, {"n": "3"}, True), ("above", {"n": 3}, {"n": 3}, False),
    ("below", {"n": 3}, {"n": 2.5}, True), ("below", {"n": 3}, {"n": "abc"}, False),
    ("above", {"n": 0}, {"n": True}, False),  # a flag is not a number
])
def test_variable_guards(guard: str, arg: object, values: dict, want: bool) -> None:
    ctx = StepContext(FLOW, "listening", "x", {}, {}, values)
    assert GUARDS[guard].fn(ctx, arg) is want


def _said_texts(result: object) -> list[str]:
    return [r.detail for r in result.world.records if r.kind == "said"]  # type: ignore[attr-defined]


def test_templated_prompts_are_filled_in_and_the_ticket_holds_the_conversation() -> None:
    result = run_script(load_script(SCRIPTS / "after_hours_message.yaml"))
    assert result.passed, result.failures
    said = _said_texts(result)
    assert said[0].startswith("Thank you for calling Bright Smile Dental. We're closed")
    assert "{" not in " ".join(said)
    assert "Thank you, Jane Doe. What message" in said[2]
    [ticket] = [r.detail for r in result.world.records if r.kind == "ticket"]
    summary = ticket["summary"]
    assert ticket["reason"] == "the caller left a message"
    assert "Caller: +15550001111." in summary and "Name given: Jane Doe." in summary
    assert "Noted: after_hours: True." in summary
    # the whole conversation, in order: the greeting they heard and both answers
    assert summary.index("caller: Jane Doe") < summary.index("caller: Please call me back")
    assert "agent: Of course. May I have your name, please?" in summary


def test_repeat_last_says_the_last_reply_again() -> None:
    result = run_script(load_script(SCRIPTS / "repeat_last_reply.yaml"))
    assert result.passed, result.failures
    said = _said_texts(result)
    assert said[-1] == "We open at eight in the morning."
    assert said.count("We open at eight in the morning.") == 2


def test_without_a_clock_a_script_runs_on_a_tuesday_morning() -> None:
    script = load_script(SCRIPTS / "open_late_thursday.yaml")
    script.clock = None
    assert run_script(script).trace.entries[0].after == "greeting"
    script.clock = "2026-12-06T10:00"  # a Sunday: closed all day
    assert run_script(script).trace.entries[0].after == "after_hours"


def test_a_variable_from_outside_is_bounded() -> None:
    from states.registry import ACTIONS
    from states.variables import MAX_TEXT

    ctx = StepContext(FLOW, "message_name", "caller.utterance", {"text": "a" * 5000}, {})
    [effect] = ACTIONS["set"].fn(ctx, {"caller_name": "{event.text}"})
    assert effect.value == "a" * MAX_TEXT


def test_a_reloaded_flow_gets_its_own_calendar(tmp_path: Path) -> None:
    text = (ROOT / "flows.yaml").read_text(encoding="utf-8")
    other = tmp_path / "flows.yaml"
    other.write_text(text.replace('sun: closed', 'sun: "10:00-12:00"'), encoding="utf-8")
    sunday = dt.datetime(2026, 12, 6, 11, 0, tzinfo=NY)
    assert not _holds("open_now", None, sunday)
    ctx = StepContext(load_flow(other), "greeting", "call.started", {}, {}, now=sunday)
    assert GUARDS["open_now"].fn(ctx, None)
    assert not _holds("open_now", None, sunday)
