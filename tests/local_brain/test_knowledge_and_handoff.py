"""Questions answered from data/knowledge.json, the don't-know line, messages, transfers,
goodbyes, and forgetting a call."""

from __future__ import annotations

import asyncio
import json
import re

from brain_testkit import SHIPPED_KB, Dialogue

from adapters.local.brain import RulesBrain
from adapters.local.brain.answers import MAX_ANSWER_CHARS, spoken_answer
from adapters.local.brain.state import CallStates
from engine.ports import Sentence, ToolCall, ToolOutcome, Turn
from engine.sentences import split_sentences as sentences

KB = {entry["id"]: entry["text"] for entry in json.loads(SHIPPED_KB.read_text())}
DONT_KNOW = [
    "I'm sorry, I don't have that information.",
    "I can take a message for our team, or connect you with someone now. "
    "Which would you prefer?",
]


def in_entry(sentence: str, doc_id: str) -> bool:
    """Every word of `sentence` comes from the entry (the answer only cuts, never invents)."""
    def words(text: str) -> set[str]:
        return set(re.findall(r"[A-Za-z0-9$']+", text))

    return words(sentence) <= words(KB[doc_id])


def test_closing_time_on_friday_comes_from_the_opening_hours(dialogue) -> None:
    reply = dialogue(call_id="CA-q1").say("When do you close on Friday?")
    assert reply.tools == []
    # From the business calendar, the time said as people say it (issue 15).
    assert reply.sentences == ["On Friday we're open until 3 PM."]
    assert "Monday" not in reply.text  # only the day asked about
    assert len(reply.text) <= MAX_ANSWER_CHARS


def test_delta_dental_is_answered_from_the_insurance_entry(dialogue) -> None:
    reply = dialogue(call_id="CA-q2").say("Do you take Delta Dental?")
    assert reply.sentences[0] == sentences(KB["insurance"])[0]
    assert len(reply.sentences) <= 2 and len(reply.text) <= MAX_ANSWER_CHARS


def test_answers_are_short_sentences_taken_from_the_entry(dialogue) -> None:
    call = dialogue(call_id="CA-q3")
    for question, doc_id in [("How much is a cleaning?", "prices"),
                             ("Is there parking?", "parking"),
                             ("Where are you located?", "address"),
                             ("Which holidays are you closed on?", "holidays")]:
        reply = call.say(question)
        assert reply.sentences, question
        assert len(reply.text) <= MAX_ANSWER_CHARS, (question, reply.text)
        assert all(in_entry(s, doc_id) for s in reply.sentences), (question, reply.text)
    assert "check-up and cleaning $120" in call.say("How much is a cleaning?").text


def test_an_unrelated_question_gets_the_dont_know_line_and_a_message_can_be_left(
    dialogue, storage
) -> None:
    call = dialogue(call_id="CA-q4")
    assert call.say("What's the capital of France?").sentences == DONT_KNOW
    message = call.say("Take a message, please")
    assert [(c.name, c.args) for c in message.tools] == [(
        "escalate_to_human",
        {"reason": "message for the team",
         "summary": "The caller asked: What's the capital of France?"},
    )]
    assert "call you back at the number ending in 0001" in message.sentences[1]
    [ticket] = storage.list_tickets()
    assert ticket.summary == "The caller asked: What's the capital of France?"


def test_after_dont_know_the_caller_can_ask_for_a_person(dialogue) -> None:
    call = dialogue(call_id="CA-q5")
    call.say("Can you recommend a good pizza place nearby?")
    assert call.say("connect me").tools == [ToolCall("transfer_to_human", {
        "reason": "The caller asked: Can you recommend a good pizza place nearby?"})]


def test_let_me_talk_to_someone_transfers(dialogue) -> None:
    reply = dialogue(call_id="CA-h").say("let me talk to someone")
    assert reply.sentences == []
    assert [(c.name, c.args) for c in reply.tools] == [
        ("transfer_to_human", {"reason": "the caller asked for a person"})
    ]


def test_thats_all_bye_ends_the_call_without_a_closing_sentence(dialogue) -> None:
    reply = dialogue(call_id="CA-bye").say("that's all, bye")
    assert (reply.sentences, reply.tools) == ([], [ToolCall("end_call", {})])


def test_a_person_or_a_goodbye_interrupts_a_booking(dialogue) -> None:
    call = dialogue(call_id="CA-stop")
    call.say("I'd like to book a cleaning")
    assert call.say("actually, can I speak to a receptionist?").tools[0].name == (
        "transfer_to_human"
    )
    other = dialogue(call_id="CA-stop-2")
    other.say("I'd like to book a cleaning")
    assert other.say("never mind, goodbye").tools == [ToolCall("end_call", {})]


def test_state_is_per_call_and_forgotten(brain: RulesBrain, storage) -> None:
    ana, lee = Dialogue(brain, storage, call_id="A"), Dialogue(brain, storage, call_id="B")
    ana.say("Book a cleaning for Ana Lopez")
    assert lee.say("Hello?").sentences == ["Hi! How can I help you today?"]
    assert ana.say("Friday").sentences == ["What time works for you on Friday, December 4th?"]
    brain.forget("A")
    assert ana.say("yes").sentences == ["Sure, what can I help you with?"]


def test_the_engine_can_pass_its_own_tool_call_back(brain: RulesBrain) -> None:
    """Matching a tool result by name and arguments when the id was not kept."""

    async def run() -> list[str]:
        items = [i async for i in brain.respond(Turn("CA-id", "+15551230001", "when is my "
                                                     "appointment?"))]
        call = items[-1]
        assert isinstance(call, ToolCall) and call.id
        brain.tool_result("CA-id", ToolCall(call.name, call.args),
                          ToolOutcome(ok=True, result={"ok": True, "data": {"appointments": []}}))
        again = [i async for i in brain.respond(Turn("CA-id", "+15551230001", "when is my "
                                                     "appointment?"))]
        return [i.text for i in again if isinstance(i, Sentence)]

    said = asyncio.run(run())
    assert said[0].startswith("I don't see any upcoming appointments")


def test_spoken_answer_keeps_long_lists_to_what_was_asked() -> None:
    answer = spoken_answer(KB["prices"], "How much is a root canal?")
    assert answer == [
        "Our prices for patients paying themselves: root canal $800 on a front tooth and "
        "$1,200 on a molar."
    ]
    assert sentences("Dr. James Chen places implants. It takes months.") == [
        "Dr. James Chen places implants.", "It takes months."
    ]


def test_the_least_recently_used_calls_are_dropped_past_max_calls() -> None:
    states = CallStates(max_calls=2)
    states.get("a").task = "book"
    states.get("b")
    states.get("a")  # used again: "b" is now the oldest
    states.get("c")
    assert ("a" in states, "b" in states, "c" in states) == (True, False, True)
    assert states.get("a").task == "book"
