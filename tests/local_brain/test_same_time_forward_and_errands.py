"""Issue 15, the classes the held-out split h6 found: a reschedule that keeps half of the old
slot ("to next Wednesday, same time"), one said as a direction ("bring my cleaning forward"),
a "from X to Y" move whose first "to" is "need to", and an errand asked of the office ("call
me a taxi after my appointment"), which is not a check.

The clock is Tuesday 1 December 2026, 09:00 in New York; the caller id is +15551230001.
"""

from __future__ import annotations

import datetime as dt

import pytest
from brain_testkit import CALLER
from test_check_cancel import book

from adapters.local.brain.intents import IntentClassifier, errand
from adapters.local.brain.keywords import CHECK, QUESTION
from adapters.local.brain.reschedule import REQUEST, _split

TODAY = dt.date(2026, 12, 1)


def _booked(storage) -> list[str]:
    return sorted(a.start.isoformat() for a in storage.list_appointments()
                  if a.status == "booked" and a.phone == CALLER)


def test_from_a_day_to_another_is_cut_at_the_to_that_names_the_new_day() -> None:
    old, new = _split("I need to move my filling from Thursday to next Wednesday", TODAY)
    assert old.date == dt.date(2026, 12, 3) and new.date == dt.date(2026, 12, 9)
    old, new = _split("I'd like to reschedule my appointment to Friday at 11, to be honest",
                      TODAY)
    assert new.date == dt.date(2026, 12, 4) and new.time == dt.time(11)


def test_same_time_on_another_day_keeps_the_old_time(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-03", "11:00", "filling")
    call = dialogue(call_id="CA-st1")
    reply = call.say("Hi, I need to move my filling from Thursday to next Wednesday, "
                     "same time if possible.")
    assert reply.sentences[-2:] == [
        "Just to confirm: I'll move your filling on Thursday, December 3rd at 11 AM to "
        "Wednesday, December 9th at 11 AM.", "Shall I go ahead?"]
    assert "now on Wednesday, December 9th at 11 AM" in call.say("Yes.").text
    assert _booked(storage) == ["2026-12-09T16:00:00+00:00"]


def test_same_time_said_when_the_time_is_asked(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-04", "14:30", "checkup")
    call = dialogue(call_id="CA-st2")
    call.say("Can I reschedule my checkup?")
    assert call.say("Monday").sentences[-1] == "What time works for you on Monday, December 7th?"
    confirm = call.say("The same time as before, please.")
    assert "to Monday, December 7th at 2:30 PM." in confirm.text


def test_a_time_said_later_wins_over_same_time(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-03", "11:00", "filling")
    call = dialogue(call_id="CA-st3")
    call.say("Could we move my filling to Friday, same time?")
    changed = call.say("Actually, make it 2 PM.")
    assert "to Friday, December 4th at 2 PM." in changed.text


@pytest.mark.parametrize("text", [
    "Can I bring my cleaning forward to an earlier day?",
    "Could you move my appointment up a couple of days?",
    "I'd like to push it back a week.",
    "Can we bump my checkup to later in the week?",
])
def test_a_direction_in_time_is_a_move(text: str) -> None:
    assert REQUEST.search(text)


def test_bring_forward_asks_for_the_day_and_moves(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-04", "10:00", "cleaning")
    call = dialogue(call_id="CA-fw1")
    assert call.say("Can I bring my cleaning forward to an earlier day?").sentences[-1] == \
        "What day would you like to move it to?"
    call.say("Wednesday.")
    confirm = call.say("Ten thirty.")
    assert "to Wednesday, December 2nd at 10:30 AM." in confirm.text
    call.say("Yes, thanks.")
    assert _booked(storage) == ["2026-12-02T15:30:00+00:00"]


@pytest.mark.parametrize(("text", "expected"), [
    ("Can you call me a taxi after my appointment?", True),
    ("Could you order me a pizza?", True),
    ("Can you get me a cab home?", True),
    ("Book me a dental cleaning on Friday", False),
    ("Can you get me an earlier appointment?", False),
    ("Can I book a consultation for Invisalign?", False),
    ("Could you find me a slot on Friday?", False),
])
def test_an_errand_is_a_thing_fetched_that_is_not_a_visit(text: str, expected: bool) -> None:
    assert errand(text) is expected


def test_an_errand_is_not_a_check_and_is_not_answered(dialogue, embedder) -> None:
    text = "Can you call me a taxi after my appointment?"
    intent = IntentClassifier(embedder).classify(text).intent
    assert intent != CHECK and intent == QUESTION
    reply = dialogue(call_id="CA-tx1").say(text)
    assert not reply.tools
    assert "I'm sorry, I don't have that information." in reply.sentences
