"""Reading dates, times, names, reasons and choices from a caller's words, and saying dates.

"Today" is Tuesday 1 December 2026 throughout.
"""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.local.brain.slots import choice_in, name_in, phone_in, reason_in
from adapters.local.brain.spoken import say_slots, say_when
from adapters.local.brain.when import parse_date, parse_time

TODAY = dt.date(2026, 12, 1)  # a Tuesday
D = dt.date
T = dt.time


@pytest.mark.parametrize(
    ("text", "day", "at"),
    [
        ("next Tuesday", D(2026, 12, 8), None),
        ("tomorrow at 3", D(2026, 12, 2), T(15, 0)),
        ("the 3rd at 5:30 in the evening", D(2026, 12, 3), T(17, 30)),
        ("Thursday", D(2026, 12, 3), None),
        ("this Tuesday", D(2026, 12, 1), None),
        ("Tuesday", D(2026, 12, 8), None),
        ("next week Wednesday", D(2026, 12, 9), None),
        ("December 3rd at 9", D(2026, 12, 3), T(9, 0)),
        ("the third of January at ten fifteen", D(2027, 1, 3), T(10, 15)),
        ("12/3 at 2pm", D(2026, 12, 3), T(14, 0)),
        ("in two weeks", D(2026, 12, 15), None),
        ("the day after tomorrow at half past four", D(2026, 12, 3), T(16, 30)),
        ("friday at noon", D(2026, 12, 4), T(12, 0)),
        ("Thursday, December 3rd at 5:30 PM", D(2026, 12, 3), T(17, 30)),
        ("I am free at 3", None, T(15, 0)),
        ("at 9 a.m.", None, T(9, 0)),
        ("quarter to five", None, T(16, 45)),
        ("May I come in at 11?", None, T(11, 0)),
        ("I'd like to book a cleaning", None, None),
        ("my number is 555 123 4567", None, None),
        ("we're at 415 Maple Avenue", None, None),
    ],
)
def test_dates_and_times_resolve_into_the_future(text: str, day, at) -> None:
    assert parse_date(text, TODAY) == day
    assert parse_time(text) == at


def test_a_past_day_of_the_month_means_next_month() -> None:
    assert parse_date("the 30th", dt.date(2026, 12, 31)) == D(2027, 1, 30)
    assert parse_date("the 31st", dt.date(2026, 11, 5)) == D(2026, 12, 31)


def test_a_lone_number_is_a_time_only_when_a_time_was_asked_for() -> None:
    assert parse_time("4") is None
    assert parse_time("4", bare=True) == T(16, 0)
    assert parse_time("how about ten", bare=True) == T(10, 0)
    assert parse_time("five thirty", bare=True) == T(17, 30)


def test_dates_are_said_the_way_people_say_them() -> None:
    assert say_when(D(2026, 12, 3), T(17, 30)) == "Thursday, December 3rd at 5:30 PM"
    assert say_when(D(2026, 12, 1), T(9, 0)) == "Tuesday, December 1st at 9 AM"
    assert say_when(D(2026, 12, 12), T(12, 0)) == "Saturday, December 12th at noon"
    assert say_slots([(D(2026, 12, 3), T(17, 0)), (D(2026, 12, 3), T(18, 0)),
                      (D(2026, 12, 4), T(8, 0))]) == (
        "Thursday, December 3rd at 5 PM or 6 PM, or Friday, December 4th at 8 AM"
    )


@pytest.mark.parametrize(
    ("text", "asked", "name"),
    [
        ("Hi, I'm calling to book, my name is ana lopez", False, "Ana Lopez"),
        ("This is Ana Lopez calling about a cleaning", False, "Ana Lopez"),
        ("book a cleaning for Ana Lopez next Tuesday", False, "Ana Lopez"),
        ("book a cleaning for Thursday", False, None),
        ("I'm sick of my toothache", False, None),
        ("Ana Lopez", False, None),
        ("Ana Lopez", True, "Ana Lopez"),
        ("sure, it's ana lopez", True, "Ana Lopez"),
        ("what time do you close?", True, None),
        ("yes", True, None),
        ("Will Smith", True, "Will Smith"),
        ("I will be there", True, None),
    ],
)
def test_names_need_an_introduction_unless_asked_for(text: str, asked: bool, name) -> None:
    assert name_in(text, asked=asked) == name


def test_reasons_phones_and_choices() -> None:
    assert reason_in("I'd like a teeth cleaning") == "cleaning"
    assert reason_in("I chipped my tooth and it hurts") == "emergency"
    assert reason_in("can I get my teeth whitened") == "whitening"
    assert reason_in("I'd like to book") is None
    assert phone_in("it's (555) 123-4567") == "+15551234567"
    assert phone_in("no") is None
    assert choice_in("the first one", 3) == 0
    assert choice_in("the last one please", 3) == 2
    assert choice_in("the third", 2) is None
