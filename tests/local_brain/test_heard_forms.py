"""Issue 15 (stop 10): bugs the audio bench found in how the brain reads what whisper wrote,
fixed for their whole class: hyphenated words ("x-ray"), ordinal words that are not dates
("First, ..."), a bare hour said as a change ("can we do 11 instead?") at every
confirmation, "need to check up on Thursday" (whisper's "need a checkup"), and "please take
a message" said before any offer.

The clock is Tuesday 1 December 2026, 09:00 in New York; the caller id is +15551230001.
"""

from __future__ import annotations

import datetime as dt

import pytest
from brain_testkit import CALLER
from test_check_cancel import book

from adapters.local.brain.heard import canonical
from adapters.local.brain.when import parse_date, parse_time

TODAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("heard", "canon"),
    [
        ("what my last X-Ray showed?", "what my last X Ray showed?"),
        ("my x-ray results", "my x ray results"),
        ("a check-up on Friday", "a check up on Friday"),
        ("a follow-up visit", "a follow up visit"),
        ("I need to re-schedule", "I need to reschedule"),
        ("It's for Mary-Jane Smith-Jones.", "It's for Mary-Jane Smith-Jones."),
        ("I need to check up on Thursday.", "I need a checkup on Thursday."),
        ("I'd like to check up on Friday at 5pm", "I'd like a checkup on Friday at 5pm"),
        ("I need to check up on my appointment", "I need to check up on my appointment"),
        ("a filling on the tent?", "a filling on the tenth?"),
    ],
)
def test_canonical_settles_the_written_forms(heard: str, canon: str) -> None:
    assert canonical(heard) == canon


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("First, stay the 10th.", dt.date(2026, 12, 10)),  # whisper's "Thursday the 10th"
        ("first thing Monday", dt.date(2026, 12, 7)),
        ("the first", dt.date(2026, 12, 1)),
        ("on the third", dt.date(2026, 12, 3)),
        ("Friday the eleventh", dt.date(2026, 12, 11)),
        ("the first one, please", dt.date(2026, 12, 1)),
    ],
)
def test_an_ordinal_word_is_a_date_only_where_a_date_can_be(text: str, expected) -> None:
    assert parse_date(text, TODAY) == expected


def test_first_without_the_is_not_the_first() -> None:
    assert parse_date("First, could you tell me your hours?", TODAY) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sorry, can we do 11 instead?", dt.time(11)),
        ("can we do 11?", dt.time(11)),
        ("could we try 3 then", dt.time(15)),
        ("11 works better", dt.time(11)),
        ("3 30 instead", dt.time(15, 30)),
        ("I want to do 2 fillings", None),
        ("can we do 2 weeks from now", None),
    ],
)
def test_a_bare_hour_said_as_a_change_is_a_time(text: str, expected) -> None:
    assert parse_time(text) == expected


def test_x_ray_with_a_hyphen_is_the_callers_own_record(dialogue, storage) -> None:
    reply = dialogue(call_id="CA-hx1").say("Can you look up what my last X-Ray showed?")
    assert "don't have that information" in reply.text
    assert "digital X-rays" not in reply.text


def test_can_we_do_11_instead_at_the_booking_confirmation(dialogue, storage) -> None:
    call = dialogue(call_id="CA-hx2")
    first = call.say("I need a cleaning on Wednesday at 9. My name is Emma Stone.")
    assert "Wednesday, December 2nd at 9 AM" in first.text
    changed = call.say("Sorry, can we do 11 instead?")
    assert "Wednesday, December 2nd at 11 AM" in changed.text
    assert changed.sentences[-1] == "Shall I book it?"
    call.say("Yes, please.")
    assert [(a.start.hour, a.status) for a in storage.list_appointments()] == [(16, "booked")]


def test_can_we_do_11_instead_at_the_reschedule_confirmation(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-03", "10:00", "cleaning")
    call = dialogue(call_id="CA-hx3")
    asked = call.say("I need to move my cleaning to Friday at 9")
    assert "Friday, December 4th at 9 AM" in asked.text
    changed = call.say("Hmm, can we do 11 instead?")
    assert "to Friday, December 4th at 11 AM" in changed.text
    assert changed.sentences[-1] == "Shall I go ahead?"


def test_reschedule_to_thursday_the_10th_as_whisper_wrote_it(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-03", "10:00", "cleaning")
    call = dialogue(call_id="CA-hx4")
    call.say("I need to push my appointment back.")
    day = call.say("First, stay the 10th.")
    assert "Thursday, December 10th" in day.text
    assert "December 1st" not in day.text


def test_need_to_check_up_on_thursday_is_a_booking(dialogue, storage) -> None:
    reply = dialogue(call_id="CA-hx5").say("I need to check up on Thursday.")
    assert reply.sentences[-1] == "What time works for you on Thursday, December 3rd?"


def test_please_take_a_message_before_any_offer_leaves_one(dialogue, storage) -> None:
    reply = dialogue(call_id="CA-hx6").say("Can I leave a message for Dr. Chen?")
    assert [t.name for t in reply.tools] == ["escalate_to_human"]
    assert "Dr. Chen" in reply.tools[0].args["summary"]
    assert "pass that on" in reply.text
