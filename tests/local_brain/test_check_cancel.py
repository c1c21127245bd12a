"""Checking and cancelling the caller's own appointments through the real tools.

Appointments are booked first through the same tools port, for the caller's number and for
someone else's (which must never be read out or cancelled).
"""

from __future__ import annotations

import asyncio

from brain_testkit import CALLER, make_tools

OTHER = "+15559870000"


def book(storage, phone: str, date: str, time: str, reason: str, name: str = "Ana Lopez"):
    tools = make_tools(storage, f"CA-seed-{phone}", phone)
    outcome = asyncio.run(tools.run("book_appointment", {
        "name": name, "phone": phone, "date": date, "time": time, "reason": reason}, "seed"))
    assert outcome.result["ok"], outcome
    return outcome.result["data"]


def test_check_reads_back_the_callers_own_appointment(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-03", "17:30", "cleaning")
    book(storage, OTHER, "2026-12-04", "09:00", "filling", name="Sam Rivera")
    call = dialogue(call_id="CA-check")
    reply = call.say("Hi, when is my appointment?")
    assert [(c.name, c.args) for c in reply.tools] == [("check_appointment", {})]
    assert reply.sentences == [
        "Let me look that up.",
        "You have a cleaning on Thursday, December 3rd at 5:30 PM for Ana Lopez.",
        "Is there anything else I can help with?",
    ]
    assert call.say("no, that's it").tools[-1].name == "end_call"


def test_check_with_nothing_booked_offers_to_book(dialogue) -> None:
    call = dialogue(call_id="CA-none")
    reply = call.say("Do I have an appointment coming up?")
    assert reply.sentences[1:] == [
        "I don't see any upcoming appointments for the number ending in 0 0 0 1.",
        "Would you like to book one?",
    ]
    assert call.say("yes").sentences == ["What day would you like to come in?"]


def test_cancel_with_one_appointment_confirms_then_cancels_it(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-03", "17:30", "cleaning")
    call = dialogue(call_id="CA-cancel-1")
    found = call.say("I need to cancel my appointment")
    assert found.sentences == [
        "Let me look up your appointments.",
        "I see a cleaning on Thursday, December 3rd at 5:30 PM.",
        "Shall I cancel it?",
    ]
    done = call.say("yes")
    assert [(c.name, c.args) for c in done.tools] == [
        ("cancel_appointment", {"date": "2026-12-03", "time": "17:30"})
    ]
    assert done.sentences[1] == (
        "Done. I've cancelled your cleaning on Thursday, December 3rd at 5:30 PM."
    )
    assert [a.status for a in storage.list_appointments()] == ["cancelled"]


def test_cancel_with_several_asks_which_and_keeps_the_others(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-03", "17:30", "cleaning")
    book(storage, CALLER, "2026-12-08", "10:00", "filling")
    book(storage, OTHER, "2026-12-04", "09:00", "checkup", name="Sam Rivera")
    call = dialogue(call_id="CA-cancel-2")
    which = call.say("Please cancel my appointment")
    assert which.sentences[1:] == [
        "You have two upcoming appointments: a cleaning on Thursday, December 3rd at 5:30 PM "
        "and a filling on Tuesday, December 8th at 10 AM.",
        "Which one would you like to cancel?",
    ]
    confirm = call.say("the filling")
    assert confirm.sentences == ["I see a filling on Tuesday, December 8th at 10 AM.",
                                 "Shall I cancel it?"]
    assert call.say("yes").tools[0].args == {"date": "2026-12-08", "time": "10:00"}
    status = {(a.phone, a.reason): a.status for a in storage.list_appointments()}
    assert status == {(CALLER, "cleaning"): "booked", (CALLER, "filling"): "cancelled",
                      (OTHER, "checkup"): "booked"}


def test_a_day_named_in_the_request_picks_the_appointment(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-03", "17:30", "cleaning")
    book(storage, CALLER, "2026-12-08", "10:00", "filling")
    call = dialogue(call_id="CA-cancel-3")
    reply = call.say("I can't make it on Thursday, please cancel it")
    assert reply.sentences[1:] == ["I see a cleaning on Thursday, December 3rd at 5:30 PM.",
                                   "Shall I cancel it?"]
    kept = call.say("no, leave it")
    assert kept.tools == []
    assert kept.sentences == ["Okay, I'll leave it as it is.",
                              "Is there anything else I can help with?"]
    assert {a.status for a in storage.list_appointments()} == {"booked"}


def test_a_reschedule_asks_for_the_new_time_and_cancels_nothing_first(dialogue, storage) -> None:
    # Issue 15: it used to cancel first, then ask for a new day (see test_reschedule_dialogue).
    book(storage, CALLER, "2026-12-03", "17:30", "cleaning")
    call = dialogue(call_id="CA-move")
    reply = call.say("I need to reschedule my cleaning")
    assert reply.sentences[-1] == "What day would you like to move it to?"
    assert [t.name for t in reply.tools] == ["check_appointment"]
    assert [a.status for a in storage.list_appointments()] == ["booked"]


def test_a_hidden_number_cannot_look_anything_up(dialogue) -> None:
    call = dialogue(call_id="CA-hidden-check", caller="")
    reply = call.say("When is my appointment?")
    assert reply.tools == []
    assert reply.sentences[0].startswith("I'm sorry, I can only look up appointments")
