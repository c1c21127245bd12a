"""Issue 15: spoken times normalised before the brain, times said as people say them, and
opening-hours questions answered for the day asked about from the business calendar.

The clock is Tuesday 1 December 2026, 09:00 in New York (brain_testkit.NOW)."""

from __future__ import annotations

import datetime as dt

import pytest
from brain_testkit import BUSINESS, NOW, NY

from adapters.local.brain.hours import hours_answer
from adapters.local.brain.spoken import speakable
from adapters.local.brain.when import parse_time
from tools.calendar import BusinessCalendar

CAL = BusinessCalendar.from_settings(BUSINESS)


@pytest.mark.parametrize(
    ("text", "bare", "expected"),
    [
        ("three in the afternoon", False, dt.time(15)),  # raised IndexError before
        ("9 in the morning please", False, dt.time(9)),
        ("Three in the afternoon, please.", False, dt.time(15)),
        ("three thirty", True, dt.time(15, 30)),
        ("3.30", True, dt.time(15, 30)),
        ("3.30 pm", False, dt.time(15, 30)),
        ("330", True, dt.time(15, 30)),
        ("330 pm", False, dt.time(15, 30)),
        ("around 330", False, dt.time(15, 30)),
        ("half past two", False, dt.time(14, 30)),
        ("noon", False, dt.time(12)),
        ("around 2", False, dt.time(14)),
        ("round two", False, dt.time(14)),
        ("1045", True, dt.time(10, 45)),
        ("at 3.30pm", False, dt.time(15, 30)),  # whisper's spelling, heard in the bench
        ("Free in the afternoon.", True, dt.time(15)),  # "Three ..." as whisper heard it
        ("free", False, None),
        ("330", False, None),  # a bare number is a time only when a time was asked
        ("2026", True, None),
        ("we're at 415 Maple Avenue", False, None),
    ],
)
def test_spoken_times(text: str, bare: bool, expected: dt.time | None) -> None:
    assert parse_time(text, bare=bare) == expected


def test_clock_times_in_answers_are_said_as_people_say_them() -> None:
    assert speakable("Monday 8:00 am to 5:00 pm; Thursday 8:00 AM to 7:30 p.m.; 12:00 pm") == (
        "Monday 8 AM to 5 PM; Thursday 8 AM to 7:30 PM; noon"
    )


@pytest.mark.parametrize(
    ("question", "now", "answer"),
    [
        ("What time are you open until tomorrow?", NOW,
         ["Tomorrow, Wednesday, we're open until 5 PM."]),
        ("Are you still open today?", NOW, ["Yes, we're open until 5 PM today."]),
        ("Are you still open?", NOW.replace(hour=18),
         ["We've closed for today. We open again tomorrow at 8 AM."]),
        ("Are you open right now?", NOW.replace(hour=7),
         ["We open at 8 AM today, and we're open until 5 PM."]),
        ("When do you close on Thursday?", NOW, ["On Thursday we're open until 7 PM."]),
        ("What are your hours on Saturday?", NOW, ["On Saturday we're open from 9 AM to 1 PM."]),
        ("Are you open on Sunday?", NOW, ["We're closed on Sundays."]),
        ("Are you open on the 24th?", NOW,
         ["We're closed on Thursday, December 24th for the holiday."]),
        ("Are you open now?", dt.datetime(2026, 12, 6, 10, tzinfo=NY),
         ["We're closed today. We open again tomorrow at 8 AM."]),
    ],
)
def test_hours_questions_answer_the_day_asked(question: str, now: dt.datetime,
                                              answer: list[str]) -> None:
    assert hours_answer(question, now, CAL) == answer


def test_the_whole_week_is_short_and_holidays_by_name_go_to_the_knowledge_base() -> None:
    [week] = hours_answer("What are your opening hours?", NOW, CAL) or [""]
    assert "8 AM to 5 PM" in week and ":00" not in week and len(week) < 160
    # A holiday by name is answered from the calendar for its date; a question about
    # holidays that names no day is the knowledge base's.
    assert hours_answer("Are you open on Christmas Eve?", NOW, CAL) == [
        "No, we're closed on Thursday, December 24th for the holiday."]
    assert hours_answer("Which holidays are you closed?", NOW, CAL) is None
    assert hours_answer("Do you take Cigna?", NOW, CAL) is None


def test_the_test_calendar_is_the_shipped_flows_calendar() -> None:
    # It had 3 of flows.yaml's 8 holidays: Memorial Day 2027 was "open" in the tests only.
    assert len(CAL.holidays) == 8
    assert hours_answer("Are you open on Memorial Day?", NOW, CAL) == [
        "No, we're closed on Monday, May 31st for the holiday."]


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        # an explicit date wins over the holiday named beside it (said Christmas Day before)
        ("Are you open on Saturday the 26th, after Christmas?",
         ["On Saturday, December 26th, we're open from 9 AM to 1 PM."]),
        ("Are you open December 28th, the week after Christmas?",
         ["On Monday, December 28th, we're open from 8 AM to 5 PM."]),
        # a weekday before or after a holiday is that weekday, not the holiday
        ("Will you be open the Saturday after Christmas?",
         ["On Saturday, December 26th, we're open from 9 AM to 1 PM."]),
        ("Are you open the Wednesday before Christmas Eve?",
         ["On Wednesday, December 23rd, we're open from 8 AM to 5 PM."]),
        # a holiday's name that is not a closing day is that date, open as usual
        ("What time do you close on New Year's Eve?",
         ["On Thursday, December 31st, we're open from 8 AM to 7 PM."]),
        # the question's polarity: "are you closed ...?" -> "Yes, ..."
        ("Are you closed on Christmas Day?",
         ["Yes, we're closed on Friday, December 25th for the holiday."]),
    ],
)
def test_a_date_beside_a_holiday_name_is_the_day_asked(question: str, answer: list[str]) -> None:
    assert hours_answer(question, NOW, CAL) == answer


def test_a_weekday_whisper_misspells_is_still_read() -> None:
    from adapters.local.brain.when import parse_date

    assert parse_date("No wait, thirsty instead.", NOW.date()) == dt.date(2026, 12, 3)
