"""Issue 15, the classes stop 15's extra tune calls (t15) found, none of these sentences
theirs: the first and last appointment of a day, the hours asked for a visit and then the
visit booked with what was said, "just cancel it" at a confirmation, "make it 11 instead" as
a move on the same day, "is my X still on", a "human" with nobody asked for, and an
emergency supposed rather than had.

The clock is Tuesday 1 December 2026, 09:00 in New York; the caller id is +15551230001.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from brain_testkit import BUSINESS, CALLER, NOW
from test_check_cancel import book

from adapters.local.brain.hours import hours_answer
from adapters.local.brain.keywords import CHECK, HUMAN
from tools.calendar import BusinessCalendar

sys.path.insert(0, str(Path(__file__).resolve().parent))
CAL = BusinessCalendar.from_settings(BUSINESS)


@pytest.mark.parametrize(("said", "wanted"), [
    ("When's your last appointment on a Friday?", "2:30 PM"),
    ("What's the earliest slot on Thursday?", "8 AM"),
    ("How early could I come by this Saturday?", "9 AM"),
])
def test_the_first_and_last_appointment_of_a_day(said, wanted) -> None:
    answer = hours_answer(said, NOW, CAL)
    assert answer is not None and wanted in answer[0]


def test_my_last_appointment_and_a_first_time_patient_are_not_hours() -> None:
    assert hours_answer("How much is a first-time patient exam?", NOW, CAL) is None
    assert hours_answer("Did my insurance pay for my last appointment?", NOW, CAL) is None


def test_hours_asked_for_a_visit_offer_it_and_keep_what_was_said(dialogue, storage) -> None:
    call = dialogue(call_id="CA-t1")
    first = call.say("How early can I come in on Friday for a checkup? This is Kim Vo.")
    assert "8 AM" in first.text and "book" in first.text
    second = call.say("Yes, at 9 please.")
    assert "Friday, December 4th at 9 AM" in second.text and "Kim Vo" in second.text


def test_saying_the_action_at_a_confirmation_is_a_yes(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-03", "13:00", "checkup")
    call = dialogue(call_id="CA-t2")
    assert "Shall I cancel it" in call.say("Please cancel my checkup on Thursday.").text
    assert "cancelled" in call.say("Just cancel it, please.").text


def test_make_it_another_hour_instead_moves_it_on_the_same_day(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-08", "10:00", "cleaning")
    call = dialogue(call_id="CA-t3")
    reply = call.say("My cleaning is on Tuesday at 10. Can we make it 2 instead?")
    assert "Tuesday, December 8th at 2 PM" in reply.text and "Shall I go ahead" in reply.text


def test_is_my_visit_still_on_is_a_check(brain) -> None:
    assert brain.classifier.classify("Is my filling still happening next week?").intent == CHECK


def test_a_human_needs_somebody_asked_for(brain) -> None:
    said = "Could I get a note for my boss saying I was at the dentist?"
    assert brain.classifier.classify(said).intent != HUMAN


def test_an_emergency_supposed_is_a_question_about_what_to_do(dialogue) -> None:
    reply = dialogue(call_id="CA-t4").say(
        "If my tooth breaks over the weekend, what number do we call?")
    assert "press 2" in reply.text
    assert "connect you" not in reply.text


def test_an_hour_said_as_a_clause_of_its_own() -> None:
    from adapters.local.brain.when import parse_time
    assert parse_time("Ten then. It's for Lee Park.", bare=True) is not None
    assert parse_time("I have 2 kids, Tom and Ann.", bare=True) is None


def test_a_move_names_which_visit_by_its_reason(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-03", "10:00", "cleaning")
    book(storage, CALLER, "2026-12-10", "15:00", "checkup")
    reply = dialogue(call_id="CA-t5").say("Please move my checkup to Monday the 14th at 11.")
    assert "Monday, December 14th at 11 AM" in reply.text and "Shall I go ahead" in reply.text


def test_which_appointments_do_i_have_is_a_check(brain) -> None:
    assert brain.classifier.classify("Which visits do I have booked?").intent == CHECK
