"""Booking over several turns: missing details asked one at a time, the confirmation, the exact
`book_appointment` arguments, and what the tool's answer turns into.

The clock is Tuesday 1 December 2026, 09:00 in New York; the caller id is +15551230001.
"""

from __future__ import annotations

import asyncio
import datetime as dt

from brain_testkit import CALLER, NY, make_tools

from adapters.local.brain import RulesBrain
from adapters.local.brain.spoken import say_when
from engine.ports import Sentence, ToolCall, ToolOutcome, Turn


def respond(brain: RulesBrain, text: str, *, call_id: str = "CA-book", caller: str = CALLER,
            heard: tuple[str, ...] = ()) -> list[Sentence | ToolCall]:
    async def collect() -> list[Sentence | ToolCall]:
        return [item async for item in brain.respond(Turn(call_id, caller, text, heard))]

    return asyncio.run(collect())


def texts(items: list[Sentence | ToolCall]) -> list[str]:
    return [i.text for i in items if isinstance(i, Sentence)]


def tool_calls(items: list[Sentence | ToolCall]) -> list[ToolCall]:
    return [i for i in items if isinstance(i, ToolCall)]


def test_a_whole_booking_through_respond_and_tool_result(brain: RulesBrain) -> None:
    first = respond(brain, "Hi, I'd like to book a cleaning")
    assert first == [Sentence("What day would you like to come in?")]

    second = respond(brain, "the 3rd at 5:30 in the evening")
    assert texts(second) == ["And what name should I put the appointment under?"]

    third = respond(brain, "It's Ana Lopez")
    assert texts(third) == [
        "Just to confirm: a cleaning on Thursday, December 3rd at 5:30 PM for Ana Lopez.",
        "Shall I book it?",
    ]
    assert tool_calls(first + second + third) == []

    fourth = respond(brain, "yes please")
    assert texts(fourth) == ["One moment while I book that."]
    [call] = tool_calls(fourth)
    assert isinstance(fourth[-1], ToolCall)
    assert call.name == "book_appointment"
    assert call.args == {"name": "Ana Lopez", "phone": "+15551230001", "date": "2026-12-03",
                         "time": "17:30", "reason": "cleaning"}

    # What the tools runner hands back (ToolResult.to_llm()), then the flow responds again
    # with the same utterance.
    data = {"appointment_id": 7, "name": "Ana Lopez", "date": "2026-12-03", "time": "17:30",
            "spoken": "Thursday, December 3 at 5:30 PM", "end_time": "18:00",
            "reason": "cleaning", "status": "booked", "already_booked": False}
    brain.tool_result("CA-book", call, ToolOutcome(ok=True, result={"ok": True, "data": data}))
    done = respond(brain, "yes please")
    assert texts(done) == [
        "You're all set: a cleaning on Thursday, December 3rd at 5:30 PM for Ana Lopez.",
        "We'll send you a text reminder two days before.",
        "Is there anything else I can help with?",
    ]
    assert tool_calls(done) == []
    assert respond(brain, "no thanks") == [ToolCall("end_call", {})]


def test_a_taken_slot_offers_the_tools_alternatives_and_books_the_one_chosen(
    dialogue, storage
) -> None:
    other = make_tools(storage, "CA-other", "+15559870000")
    taken = asyncio.run(other.run("book_appointment", {
        "name": "Sam Rivera", "phone": "+15559870000", "date": "2026-12-02", "time": "10:00",
        "reason": "checkup"}, "CA-other"))
    assert taken.result["ok"]

    call = dialogue(call_id="CA-taken")
    confirm = call.say("Can I book a checkup for Ana Lopez tomorrow at 10?")
    assert confirm.sentences == [
        "Just to confirm: a checkup on Wednesday, December 2nd at 10 AM for Ana Lopez.",
        "Shall I book it?",
    ]
    refused = call.say("Yes")
    assert [c.name for c in refused.tools] == ["book_appointment"]
    error = refused.outcomes[0].result["error"]
    assert (error["code"], error["reason"]) == ("slot_unavailable", "taken")
    offered = [(dt.date.fromisoformat(a["date"]), dt.time.fromisoformat(a["time"]))
               for a in error["alternatives"]]
    assert len(offered) == 3
    assert refused.sentences[1] == "I'm sorry, Wednesday, December 2nd at 10 AM is already taken."
    for day, at in offered:
        assert say_when(day, at).split(" at ")[1] in refused.sentences[2]
    assert "Wednesday, December 2nd" in refused.sentences[2]
    assert refused.sentences[-1] == (
        "Would one of those work, or is there another time you'd prefer?"
    )

    again = call.say("the second one")
    day, at = offered[1]
    assert again.sentences == [
        f"Just to confirm: a checkup on {say_when(day, at)} for Ana Lopez.", "Shall I book it?"
    ]
    booked = call.say("yes")
    assert booked.tools[0].args == {"name": "Ana Lopez", "phone": CALLER,
                                    "date": day.isoformat(), "time": f"{at:%H:%M}",
                                    "reason": "checkup"}
    assert booked.sentences[1] == f"You're all set: a checkup on {say_when(day, at)} for Ana Lopez."
    mine = [a for a in storage.list_appointments() if a.phone == CALLER]
    assert [a.start.astimezone(NY).replace(tzinfo=None) for a in mine] == [
        dt.datetime.combine(day, at)
    ]


def test_closed_days_and_hours_are_caught_before_confirming(dialogue) -> None:
    call = dialogue(call_id="CA-hours")
    sunday = call.say("I'd like an appointment on Sunday at 10")
    assert sunday.sentences == ["I'm sorry, we're closed on Sundays.",
                                "What day would you like to come in?"]
    monday = call.say("Monday then, at 7 pm")
    assert monday.sentences == ["On Mondays we're open from 8 AM to 5 PM.",
                                "What time works for you on Monday, December 7th?"]
    four = call.say("4")
    assert four.sentences == ["And what name should I put the appointment under?"]
    assert call.say("Pat Doe").sentences[0] == (
        "Just to confirm: a checkup on Monday, December 7th at 4 PM for Pat Doe."
    )


def test_no_to_the_confirmation_changes_what_the_caller_says(dialogue) -> None:
    call = dialogue(call_id="CA-amend")
    call.say("Book a filling for Ana Lopez on Friday at 10")
    no = call.say("No")
    assert no.sentences == ["No problem. What should I change: the day, the time, or the name?"]
    assert no.tools == []
    change = call.say("make it 11 instead")
    assert change.sentences[0] == (
        "Just to confirm: a filling on Friday, December 4th at 11 AM for Ana Lopez."
    )
    direct = call.say("actually, Thursday at 11")
    assert direct.sentences[0] == (
        "Just to confirm: a filling on Thursday, December 3rd at 11 AM for Ana Lopez."
    )
    assert direct.tools == []


def test_a_yes_to_a_confirmation_that_was_not_heard_does_not_book(brain: RulesBrain) -> None:
    respond(brain, "Book a cleaning for Ana Lopez tomorrow at 9", call_id="CA-barge")
    # The caller barged in during the confirmation: the question is not among what was heard.
    heard = ("Thank you for calling Bright Smile Dental.", "Just to confirm: a cleaning")
    again = respond(brain, "yes", call_id="CA-barge", heard=heard)
    assert tool_calls(again) == []
    assert texts(again)[0] == "Sorry, just to be sure."
    assert texts(again)[-1] == "Shall I book it?"
    booked = respond(brain, "yes", call_id="CA-barge", heard=(*heard, *texts(again)))
    assert tool_calls(booked)[0].name == "book_appointment"


def test_a_hidden_caller_id_means_asking_for_a_phone_number(dialogue) -> None:
    call = dialogue(call_id="CA-hidden", caller="anonymous")
    reply = call.say("I want to book a checkup tomorrow at 2 pm, my name is Lee Park")
    assert reply.sentences == ["What's the best phone number to reach you?"]
    reply = call.say("it's 555 867 5309")
    assert reply.sentences[0] == (
        "Just to confirm: a checkup on Wednesday, December 2nd at 2 PM for Lee Park."
    )
    assert call.say("yes").tools[0].args["phone"] == "+15558675309"


def test_a_question_in_the_middle_is_answered_and_the_question_asked_again(dialogue) -> None:
    call = dialogue(call_id="CA-aside")
    assert call.say("I need an appointment").sentences == ["What day would you like to come in?"]
    aside = call.say("Wait, do you take Delta Dental?")
    assert "Delta Dental" in aside.sentences[0]
    assert aside.sentences[-1] == "What day would you like to come in?"
    assert call.say("Friday").sentences == ["What time works for you on Friday, December 4th?"]


def test_a_failed_booking_apologises_and_offers_a_person(brain: RulesBrain) -> None:
    respond(brain, "Book a cleaning for Ana Lopez tomorrow at 9", call_id="CA-fail")
    [call] = tool_calls(respond(brain, "yes", call_id="CA-fail"))
    failure = {"ok": False, "error": {"code": "timeout", "message": "no answer"}}
    brain.tool_result("CA-fail", call,
                      ToolOutcome(ok=False, result=failure, error="timeout: no answer"))
    reply = texts(respond(brain, "yes", call_id="CA-fail"))
    assert reply[0].startswith("I'm sorry")
    assert reply[-1].endswith("connect you with someone now. Which would you prefer?")
    assert respond(brain, "connect me please", call_id="CA-fail")[-1].name == "transfer_to_human"


def test_a_booking_interrupted_before_the_tool_ran_goes_back_to_the_confirmation(
    brain: RulesBrain,
) -> None:
    respond(brain, "Book a cleaning for Ana Lopez tomorrow at 9", call_id="CA-cut")
    assert tool_calls(respond(brain, "yes", call_id="CA-cut"))  # the flow never runs it
    changed = respond(brain, "wait, make it 4 pm", call_id="CA-cut")
    assert texts(changed) == [
        "Just to confirm: a cleaning on Wednesday, December 2nd at 4 PM for Ana Lopez.",
        "Shall I book it?",
    ]
    [call] = tool_calls(respond(brain, "yes", call_id="CA-cut"))
    assert (call.args["date"], call.args["time"]) == ("2026-12-02", "16:00")
