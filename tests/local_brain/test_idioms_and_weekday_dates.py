"""Issue 15, the classes the held-out split h7 found (none of these sentences is h7's own):
hours asked with other verbs ("when do you wrap up?"), a weekday said with a day of the
month that falls in a later month ("Monday the 4th" in December is January 4th), prices
asked with other verbs ("what would a crown set me back?"), a plan "covering" a person,
booking verbs ("pencil me in"), cancelling verbs ("strike it off the calendar") and asking
for a named dentist.

The clock is Tuesday 1 December 2026, 09:00 in New York; the caller id is +15551230001.
"""

from __future__ import annotations

import datetime as dt

import pytest
from brain_testkit import CALLER
from test_check_cancel import book

from adapters.local.brain.idioms import restate
from adapters.local.brain.when import parse_date

TODAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize(("said", "day"), [
    ("Could I come Monday the 4th?", dt.date(2027, 1, 4)),
    ("the 1st, a Friday", dt.date(2027, 1, 1)),
    ("Saturday the 6th at noon", dt.date(2027, 2, 6)),
    ("Thursday the 10th", dt.date(2026, 12, 10)),
    ("the 4th", dt.date(2026, 12, 4)),
    # no Tuesday the 31st within six months: the weekday is a slip, the date wins
    ("Tuesday the 31st", dt.date(2026, 12, 31)),
])
def test_a_weekday_with_a_day_of_the_month_picks_the_month_where_they_agree(said, day) -> None:
    assert parse_date(said, TODAY) == day


@pytest.mark.parametrize(("said", "plain"), [
    ("When do you guys wrap up on Fridays?", "When do you guys close on Fridays?"),
    ("What time does the office shut tonight?", "What time does the office close tonight?"),
    ("How early do you begin taking patients tomorrow?", "How early do you open tomorrow?"),
    ("What would a crown set me back?", "How much does a crown cost?"),
    ("what's a night guard going to run me", "how much does a night guard cost"),
    ("We have Aetna, would that cover my son?", "We have Aetna, do you accept that insurance "
                                                "for my son?"),
    ("Can you pencil me in for Friday?", "Can you book me for Friday?"),
    ("Please strike it off the calendar.", "Please cancel it."),
    # not the idioms: a treatment being finished, a time that "would work"
    ("When do you finish my crown?", "When do you finish my crown?"),
    ("Thursday at 3, would that work?", "Thursday at 3, would that work?"),
])
def test_idioms_are_restated_in_plain_words(said, plain) -> None:
    assert restate(said) == plain


def test_hours_asked_with_a_closing_verb_get_the_closing_time(dialogue) -> None:
    reply = dialogue(call_id="CA-id1").say("When do you guys wrap up on Fridays?")
    assert "3 PM" in reply.text and "Saturday" not in reply.text


def test_hours_asked_with_a_starting_verb_get_the_opening_time(dialogue) -> None:
    reply = dialogue(call_id="CA-id2").say("How early do you begin taking patients on Saturday?")
    assert "9 AM" in reply.text and "Monday" not in reply.text


def test_a_price_asked_with_another_verb_gets_the_price(dialogue) -> None:
    reply = dialogue(call_id="CA-id3").say("Roughly what would a crown set me back?")
    assert "1,100" in reply.text


def test_a_plan_covering_a_person_is_an_insurance_question(dialogue) -> None:
    reply = dialogue(call_id="CA-id4").say("My boy is on MassHealth. Will that cover him?")
    assert "MassHealth" in reply.text and "don't have that information" not in reply.text


def test_pencil_me_in_books_in_one_sentence(dialogue, storage) -> None:
    call = dialogue(call_id="CA-id5")
    reply = call.say("Pencil me in for a cleaning on Wednesday the 9th at 11, it's Eva Stone.")
    assert reply.sentences[-1] == "Shall I book it?"
    assert "Wednesday, December 9th at 11 AM" in reply.text and "Eva Stone" in reply.text


def test_a_monday_the_4th_booking_goes_to_january(dialogue) -> None:
    reply = dialogue(call_id="CA-id6").say(
        "Could I book a checkup for Monday the 4th at 10? My name is Omar Reyes.")
    assert "Monday, January 4th at 10 AM" in reply.text


def test_striking_it_off_the_calendar_cancels(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-10", "15:00", "cleaning")
    call = dialogue(call_id="CA-id7")
    reply = call.say("Could you strike my cleaning off the calendar? I can't do the 10th.")
    assert "Thursday, December 10th at 3 PM" in reply.text
    assert "cancelled" in call.say("Yes.").text
    assert not [a for a in storage.list_appointments() if a.status == "booked"]


def test_asking_for_a_named_dentist_transfers(dialogue) -> None:
    reply = dialogue(call_id="CA-id8").say("Could I have a word with Dr. Alvarez, please?")
    assert reply.last_tool is not None and reply.last_tool.name == "transfer_to_human"
