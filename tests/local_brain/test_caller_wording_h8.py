"""Issue 15, the classes the held-out split h8 found (none of these sentences is h8's own):
presence for the hours ("will anyone be in?"), a plan "you work with", cancelling and moving
verbs, "I said X but I meant Y", "Monday, first thing", a change of day after a refused one,
a time said with a part of the day or an interjection, "X here/calling", polite closers, an
emergency for today, a slot asked about with "free/doable", a named dentist "around", an
insurer that sounds like "human", a question in answer to the offer of a person, someone
else's booking, "later in the day" in a move, and the caller's own insurance payment.

The clock is Tuesday 1 December 2026, 09:00 in New York; the caller id is +15551230001.
"""

from __future__ import annotations

import datetime as dt

import pytest
from brain_testkit import CALLER
from test_check_cancel import book

from adapters.local.brain.answers import about_own_records
from adapters.local.brain.idioms import restate
from adapters.local.brain.slots import name_aside, name_in
from adapters.local.brain.when import parse_date, parse_time

TODAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize(("said", "plain"), [
    ("Will anyone be in the office tomorrow?", "are you open tomorrow?"),
    ("What's the earliest we could come in?", "how early are you open?"),
    ("Is Aetna a plan you guys work with?", "Is Aetna an insurance you accept?"),
    ("We need to ditch Friday's filling.", "We need to cancel Friday's filling."),
    ("Sorry, I said 10 but I meant 11.", "Sorry, I meant 11."),
    ("I want another time for my cleaning.", "I want to move my cleaning."),
    ("Can you set me up with a checkup?", "Can you book me a checkup?"),
])
def test_more_idioms_are_restated(said, plain) -> None:
    assert restate(said) == plain


def test_first_thing_is_not_the_first_and_a_changed_day_is_the_nearest() -> None:
    assert parse_date("Wednesday, first thing", TODAY) == dt.date(2026, 12, 2)
    # after a refused Sunday the 20th, "Monday" is the 21st, not the 14th
    assert parse_date("Monday then", TODAY, week_of=dt.date(2026, 12, 20)) == dt.date(2026, 12, 21)
    assert parse_date("the Friday before", TODAY,
                      week_of=dt.date(2026, 12, 24)) == dt.date(2026, 12, 18)
    assert parse_date("the Tuesday right after", TODAY,
                      week_of=dt.date(2026, 12, 25)) == dt.date(2026, 12, 29)


@pytest.mark.parametrize(("said", "bare", "time"), [
    ("Late morning, maybe 11?", True, dt.time(11)),
    ("Oh. 2 then?", True, dt.time(14)),
    ("can it be earlier in the day, like 9?", False, dt.time(9)),
    ("Fine, Friday works, still 10.", False, dt.time(10)),
    ("I'd like 2 fillings done", False, None),
])
def test_times_said_with_a_part_of_the_day_or_a_lead(said, bare, time) -> None:
    assert parse_time(said, bare=bare) == time


def test_a_name_said_first_and_no_as_no_name() -> None:
    assert name_aside("Tom Baker calling, can I get a cleaning Friday?") == "Tom Baker"
    assert name_in("Nope.", asked=True) is None


def test_the_callers_own_insurance_payment_is_a_record() -> None:
    assert about_own_records("Has my insurance paid for the filling yet?")


def test_polite_closers_end_the_call(dialogue) -> None:
    reply = dialogue(call_id="CA-w1").say("Take care now.")
    assert reply.last_tool is not None and reply.last_tool.name == "end_call"


def test_yes_with_a_see_you_then_confirms_the_booking(dialogue, storage) -> None:
    call = dialogue(call_id="CA-w2")
    call.say("I'd like a cleaning on Wednesday the 9th at 10, my name is Ann Lee.")
    assert "all set" in call.say("Perfect, see you then.").text
    assert [a for a in storage.list_appointments() if a.status == "booked"]


def test_an_emergency_for_today_gets_the_guidance_and_a_person(dialogue) -> None:
    reply = dialogue(call_id="CA-w3").say("My gum is swollen, can somebody see me today?")
    assert "What time" not in reply.text and "connect you" in reply.text


def test_a_slot_asked_about_is_a_booking_not_the_hours(dialogue) -> None:
    reply = dialogue(call_id="CA-w4").say(
        "Would Tuesday the 8th at 10 be open for a cleaning? I'm Ann Lee.")
    assert "Tuesday, December 8th at 10 AM" in reply.text and "Shall I book it" in reply.text


def test_a_named_dentist_around_to_speak_to_transfers(dialogue) -> None:
    reply = dialogue(call_id="CA-w5").say("Is Dr. Chen in today? I'd like to speak to him.")
    assert reply.last_tool is not None and reply.last_tool.name == "transfer_to_human"


def test_an_insurer_like_human_and_a_question_after_the_offer_are_answered(dialogue) -> None:
    call = dialogue(call_id="CA-w6")
    assert "don't have that information" in call.say("Do you sell electric toothbrushes?").text
    reply = call.say("Okay, but do you take Humana?")
    assert "Humana" in reply.text and reply.last_tool is None
    reply = call.say("Right. Is Spanish spoken by your staff?")
    assert "Spanish" in reply.text and reply.last_tool is None


def test_someone_else_booking_me_is_a_check(dialogue) -> None:
    reply = dialogue(call_id="CA-w7").say("Did my husband book me in for anything?")
    assert "don't see any" in reply.text


def test_later_in_the_day_keeps_the_day_of_a_move(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-08", "09:00", "filling")
    reply = dialogue(call_id="CA-w8").say("Could my filling be later in the day, like 4?")
    assert "to Tuesday, December 8th at 4 PM" in reply.text


def test_how_much_with_set_me_back_is_a_price() -> None:
    assert restate("How much would a filling set me back?") == "How much does a filling cost?"


def test_a_visit_a_day_and_a_time_without_a_verb_is_a_booking(dialogue) -> None:
    reply = dialogue(call_id="CA-w9").say(
        "I'm Sam Ode. Cleaning on Wednesday the 16th at 3 please.")
    assert "Wednesday, December 16th at 3 PM" in reply.text and "Sam Ode" in reply.text
