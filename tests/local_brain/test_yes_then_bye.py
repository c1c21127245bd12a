"""A yes and a goodbye in one breath at a confirmation ("Yes please, bye."): the task is
done first, its result said, and then the call ends — it used to end without booking.

The clock is Tuesday 1 December 2026, 09:00 in New York.
"""

from __future__ import annotations

import asyncio

import pytest
from brain_testkit import CALLER, make_tools

from tools.storage import Storage


@pytest.mark.parametrize("answer", ["Yes please, bye.", "Yeah that's great, thanks, bye bye.",
                                    "Okay, goodbye."])
def test_a_yes_with_a_goodbye_books_then_ends_the_call(dialogue, storage: Storage,
                                                      answer: str) -> None:
    call = dialogue(call_id="CA-bye")
    confirm = call.say("Book a cleaning for Ana Lopez tomorrow at 9")
    assert confirm.sentences[-1] == "Shall I book it?"
    done = call.say(answer)
    assert [t.name for t in done.tools] == ["book_appointment", "end_call"]
    assert any(s.startswith("You're all set") for s in done.sentences)
    assert "anything else" not in done.text.lower()
    assert [a.name for a in storage.list_appointments()] == ["Ana Lopez"]


def test_a_plain_goodbye_at_a_confirmation_still_just_ends(dialogue, storage: Storage) -> None:
    call = dialogue(call_id="CA-nobook")
    call.say("Book a cleaning for Ana Lopez tomorrow at 9")
    done = call.say("Actually never mind, bye.")
    assert [t.name for t in done.tools] == ["end_call"]
    assert storage.list_appointments() == []


def test_a_yes_and_goodbye_that_fails_to_book_keeps_the_offer_of_help(dialogue,
                                                                     storage: Storage) -> None:
    first = dialogue(call_id="CA-first", caller="+15550009999")
    first.say("Book a cleaning for Sam Reed tomorrow at 9")
    first.say("yes")  # the slot is taken now
    call = dialogue(call_id="CA-late")
    call.say("Book a cleaning for Ana Lopez tomorrow at 9")
    done = call.say("Yes please, bye.")
    assert "end_call" not in [t.name for t in done.tools]
    assert [a.name for a in storage.list_appointments()] == ["Sam Reed"]


def test_a_cancel_confirmed_with_a_goodbye_cancels_then_ends(dialogue, storage: Storage) -> None:
    tools = make_tools(storage, "CA-seed", CALLER)
    booked = asyncio.run(tools.run("book_appointment", {
        "name": "Ana Lopez", "phone": CALLER, "date": "2026-12-03", "time": "17:30",
        "reason": "cleaning"}, "CA-seed"))
    assert booked.result["ok"], booked
    call = dialogue(call_id="CA-cancel-bye")
    assert call.say("I need to cancel my appointment").sentences[-1] == "Shall I cancel it?"
    done = call.say("Yes, thanks, bye.")
    assert [t.name for t in done.tools] == ["cancel_appointment", "end_call"]
    assert any(s.startswith("Done. I've cancelled") for s in done.sentences)
    assert [a.status for a in storage.list_appointments()] == ["cancelled"]
