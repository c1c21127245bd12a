"""Tool arguments at the edges: dates far in the past or future, control characters, lengths.

Each comes back as a clear error the LLM can act on (never `internal_error`) and writes nothing.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tools_testkit import CALLER, NOW, booking_args

from tools.calendar import BusinessCalendar, validate_business_settings
from tools.context import ToolContext
from tools.registry import ToolRegistry
from tools.runner import run_tool
from tools.storage import Storage


def call(reg: ToolRegistry, ctx: ToolContext, name: str, args: dict[str, Any]) -> dict:
    return asyncio.run(run_tool(name, args, registry=reg, context=ctx)).to_llm()


@pytest.mark.parametrize("date", ["0001-01-01", "0001-01-02", "1900-03-01", "2026-11-30"])
def test_a_past_date_even_year_one_is_refused_with_the_soonest_times(
    registry, ctx, storage: Storage, date: str
) -> None:
    out = call(registry, ctx, "book_appointment", booking_args(CALLER, date, "10:00"))
    assert out["ok"] is False, out
    error = out["error"]
    assert (error["code"], error["reason"], error["field"]) == ("slot_unavailable", "past", "date")
    assert "passed" in error["message"]
    assert 1 <= len(error["alternatives"]) <= 3
    assert all(alt["date"] >= "2026-12-01" for alt in error["alternatives"])
    assert storage.list_appointments() == []


@pytest.mark.parametrize("date", ["9999-12-31", "9999-12-30", "2100-01-04", "2027-12-03"])
def test_a_date_beyond_the_booking_horizon_is_refused(
    registry, ctx, storage: Storage, date: str
) -> None:
    out = call(registry, ctx, "book_appointment", booking_args(CALLER, date, "10:00"))
    assert out["ok"] is False, out
    error = out["error"]
    assert (error["code"], error["reason"], error["field"]) == (
        "slot_unavailable", "too_far", "date")
    assert "365 days ahead" in error["message"] and "2027" in error["message"]
    assert storage.list_appointments() == []


def test_the_last_day_of_the_horizon_can_be_booked(registry, ctx, storage: Storage) -> None:
    # 1 December 2027 is a Wednesday, 365 days after the test's "now".
    out = call(registry, ctx, "book_appointment", booking_args(CALLER, "2027-12-01", "10:00"))
    assert out["ok"], out


def test_the_horizon_is_a_business_setting() -> None:
    from tools_testkit import BUSINESS

    cal = BusinessCalendar.from_settings({**BUSINESS, "booking_days": 30})
    assert cal.check_day(NOW.date().replace(day=31), now=NOW).ok
    assert cal.check_day(NOW.date().replace(month=1, year=2027, day=1), now=NOW).reason == \
        "too_far"
    problems = validate_business_settings({**BUSINESS, "booking_days": 0})
    assert problems and problems[0].startswith("booking_days:")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("name", "Pat\nDoe"),
        ("name", "Pat\x00Doe"),
        ("name", "Pat Doe\n"),
        ("name", "\tPat"),
        ("name", "Pat\u2028Doe"),
        ("name", "Pat\x1b[31mDoe"),
        ("reason", "clean\rING"),
        ("reason", "cleaning\x7f"),
    ],
)
def test_control_characters_in_names_and_reasons_are_refused(
    registry, ctx, storage: Storage, field: str, value: str
) -> None:
    out = call(registry, ctx, "book_appointment", booking_args(CALLER, **{field: value}))
    assert out["ok"] is False, out
    error = out["error"]
    assert (error["code"], error["field"]) == ("invalid_arguments", field)
    assert "control characters" in error["message"]
    assert storage.list_appointments() == []


def test_accented_and_spaced_names_are_fine(registry, ctx, storage: Storage) -> None:
    out = call(registry, ctx, "book_appointment",
               booking_args(CALLER, name="  José Müller-O'Brien ", reason="Zahnreinigung"))
    assert out["ok"], out
    assert storage.list_appointments()[0].name == "José Müller-O'Brien"


@pytest.mark.parametrize(
    ("name", "args", "field", "words"),
    [
        ("book_appointment", booking_args(CALLER, name="x" * 201), "name", "at most 200"),
        ("book_appointment", booking_args("5" * 10_000), "phone", "at most 32"),
        ("book_appointment", booking_args(CALLER, name="   "), "name", "blank"),
        ("escalate_to_human", {"reason": "billing", "summary": "s" * 20_001}, "summary",
         "at most 20000"),
        ("escalate_to_human", {"reason": "billing\nDROP", "summary": "x"}, "reason",
         "control characters"),
        ("escalate_to_human", {"reason": "billing", "summary": "needs\x00help"}, "summary",
         "control characters"),
        ("check_appointment", {"phone": "1" * 100_000}, "phone", "at most 32"),
        ("cancel_appointment", {"date": "9" * 5000}, "date", "not a date"),
    ],
)
def test_long_or_blank_text_is_refused_with_a_short_message(
    registry, ctx, name: str, args: dict, field: str, words: str
) -> None:
    out = call(registry, ctx, name, args)
    assert out["ok"] is False, out
    error = out["error"]
    assert (error["code"], error["field"]) == ("invalid_arguments", field)
    assert words in error["message"]
    assert len(error["message"]) < 300  # the value is never echoed in full


def test_a_summary_may_have_line_breaks(registry, ctx, storage: Storage) -> None:
    out = call(registry, ctx, "escalate_to_human",
               {"reason": "billing question", "summary": "Charged twice.\nWants a refund.\n"})
    assert out["ok"], out
