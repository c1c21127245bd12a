"""The provider-neutral parts: history per call, heard trimming, tool pairing, the prompt,
the tool list and the backoff."""

from __future__ import annotations

import datetime as dt
import json
from zoneinfo import ZoneInfo

from llm_testkit import CALLER, GREETING, PARKING, StubRetriever, run, turn

from adapters.llm.conversation import (
    Conversation,
    Conversations,
    Said,
    Spoken,
    ToolReturn,
    Utterance,
)
from adapters.llm.prompt import build_prompt, fetch_knowledge, now_line
from adapters.llm.tools import FLOW_TOOL_NAMES, anthropic_tools, openai_tools
from adapters.retry import Backoff, retry_after
from engine.ports import ToolCall, ToolOutcome, Turn
from tools.registry import ToolRegistry


def shape(conversation: Conversation) -> list[tuple[str, list[str]]]:
    """Each message as (role, [part kind: text]) for compact assertions."""
    out = []
    for message in conversation.messages():
        parts = []
        for p in message.parts:
            if isinstance(p, ToolCall):
                parts.append(f"use:{p.name}")
            elif isinstance(p, ToolReturn):
                parts.append(f"result:{json.loads(p.content)['ok']}")
            else:
                parts.append(p.text)
        out.append((message.role, parts))
    return out


def test_unheard_sentences_leave_the_history_after_a_barge_in() -> None:
    c = Conversation("call-1")
    c.begin(turn("When are you open?", heard=(GREETING,)))
    for s in ("We open at 8.", "We close at 5.", "On Saturdays we close at 1."):
        c.said(s)
    # The caller interrupted during the second sentence: only the first was heard.
    c.begin(turn("And Sunday?", heard=(GREETING, "We open at 8.")))
    assert shape(c) == [
        ("user", ["When are you open?"]),
        ("assistant", ["We open at 8."]),
        ("user", ["And Sunday?"]),
    ]


def test_a_reply_heard_by_nobody_disappears_and_the_caller_turns_merge() -> None:
    c = Conversation("call-1")
    c.begin(turn("Hello?"))
    c.said("Hi, how can I help?")
    c.begin(turn("I need an appointment.", heard=()))
    assert shape(c) == [("user", ["Hello?", "I need an appointment."])]
    [message] = c.messages()
    assert message.texts == ["Hello?\nI need an appointment."]


def test_flow_lines_heard_after_the_reply_are_kept_but_not_the_greeting() -> None:
    c = Conversation("call-1")
    c.begin(turn("Do you take Delta Dental?", heard=(GREETING,)))
    c.said("Yes, we do.")
    c.said("Would you like to book?")
    reprompt = "Are you still there?"
    c.begin(turn("Yes.", heard=(GREETING, "Yes, we do.", "Would you like to book?", reprompt)))
    assert shape(c) == [
        ("user", ["Do you take Delta Dental?"]),
        ("assistant", ["Yes, we do.", "Would you like to book?", reprompt]),
        ("user", ["Yes."]),
    ]
    assert isinstance(c.parts[3], Spoken)
    assert c.messages()[1].texts == [f"Yes, we do. Would you like to book? {reprompt}"]


def test_a_tool_result_continues_the_turn_instead_of_adding_caller_words() -> None:
    c = Conversation("call-1")
    t = turn("Do I have an appointment?")
    assert c.begin(t) is False
    c.said("Let me check.")
    call = ToolCall("check_appointment", {}, "toolu_1")
    c.tool_call(call)
    assert c.tool_result(call, ToolOutcome(True, {"ok": True, "data": []}))
    assert c.continues(t)
    assert c.begin(t) is True
    c.said("You have no appointments.")
    assert shape(c) == [
        ("user", ["Do I have an appointment?"]),
        ("assistant", ["Let me check.", "use:check_appointment"]),
        ("user", ["result:True"]),
        ("assistant", ["You have no appointments."]),
    ]
    # The next respond with the same words is a new turn again, not a continuation.
    assert not c.continues(t)


def test_a_tool_call_left_without_result_is_closed_before_the_next_turn() -> None:
    c = Conversation("call-1")
    c.begin(turn("Bye!"))
    c.tool_call(ToolCall("end_call", {}, "toolu_9"))
    c.begin(turn("Wait, one more thing.", heard=("Thank you for calling. Goodbye!",)))
    messages = c.messages()
    assert [m.role for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    [closing] = messages[2].tool_returns
    assert closing.call_id == "toolu_9" and closing.is_error
    assert json.loads(closing.content)["error"]["code"] == "no_result"
    assert messages[3].texts == ["Thank you for calling. Goodbye!"]


def test_a_new_utterance_after_a_tool_result_goes_after_that_result() -> None:
    c = Conversation("call-1")
    c.begin(turn("Book me Tuesday at 3."))
    call = ToolCall("book_appointment", {"date": "2026-12-01"}, "toolu_2")
    c.tool_call(call)
    failure = {"ok": False, "error": {"code": "slot_unavailable", "message": "taken"}}
    c.tool_result(call, ToolOutcome(True, failure))
    c.begin(turn("Actually, make it Wednesday.", heard=()))
    last = c.messages()[-1]
    assert last.role == "user"
    assert [type(p) for p in last.parts] == [ToolReturn, Utterance]
    assert last.tool_returns[0].is_error  # the tool answered, but with an error for the model


def test_results_for_unknown_tool_calls_are_ignored() -> None:
    c = Conversation("call-1")
    c.begin(turn("Hi"))
    assert not c.tool_result(ToolCall("book_appointment", {}, "nope"), ToolOutcome(True, {}))
    assert shape(c) == [("user", ["Hi"])]


def test_an_outcome_without_result_still_tells_the_model_what_happened() -> None:
    c = Conversation("call-1")
    c.begin(turn("Cancel it."))
    call = ToolCall("cancel_appointment", {}, "toolu_3")
    c.tool_call(call)
    c.tool_result(call, ToolOutcome(False, None, "TimeoutError: slow"))
    result = c.messages()[-1].tool_returns[0]
    assert result.is_error
    assert json.loads(result.content) == {
        "ok": False, "error": {"code": "internal_error", "message": "TimeoutError: slow"}}


def test_old_turns_are_trimmed_at_a_caller_turn() -> None:
    c = Conversation("call-1", max_turns=2)
    heard: tuple[str, ...] = ()
    for i in range(4):
        c.begin(turn(f"question {i}", heard=heard))
        c.said(f"Answer {i}.")
        heard = (*heard, f"Answer {i}.")
    assert shape(c) == [("user", ["question 2"]), ("assistant", ["Answer 2."]),
                        ("user", ["question 3"]), ("assistant", ["Answer 3."])]


def test_conversations_are_kept_per_call_forgotten_and_bounded() -> None:
    calls = Conversations(max_calls=2)
    calls.get("a").begin(turn("hi", call_id="a"))
    calls.get("b")
    assert calls.get("a").parts[0] == Utterance("hi")
    calls.get("c")  # "b" is now the least recently used
    assert "b" not in calls and "a" in calls and len(calls) == 2
    calls.forget("a")
    assert "a" not in calls
    assert calls.get("a").parts == []


def test_a_tool_result_names_its_call_and_its_tool_call_id() -> None:
    calls = Conversations()
    for call_id in ("a", "b"):
        calls.get(call_id).begin(turn("check", call_id=call_id))
    call = ToolCall("check_appointment", {}, "toolu_b")
    calls.get("b").tool_call(call)
    assert calls.peek("b") is calls.get("b") and calls.peek("nobody") is None
    assert not calls.peek("a").tool_result(call, ToolOutcome(True, {}))  # not a's tool call
    assert calls.peek("b").tool_result(call, ToolOutcome(True, {}))


def test_the_prompt_has_the_date_in_the_business_zone_and_the_knowledge() -> None:
    retriever = StubRetriever([PARKING])
    knowledge = run(fetch_knowledge(retriever, "where can I park", "call-1"))
    assert retriever.questions == ["where can I park"]
    c = Conversation("call-1")
    c.begin(turn("where can I park"))
    c.knowledge = knowledge
    now = dt.datetime(2026, 12, 1, 19, 5, tzinfo=dt.UTC)
    prompt = build_prompt("SYSTEM", c, ZoneInfo("America/New_York"), now)
    assert prompt.system == "SYSTEM"
    assert prompt.context.startswith(
        "Current date and time: Tuesday 1 December 2026, 2:05 PM (America/New_York).")
    assert "Free parking is behind the building on Elm Street." in prompt.context
    assert prompt.messages[0].texts == ["where can I park"]
    assert now_line(ZoneInfo("UTC"), now).endswith("7:05 PM (UTC).")


def test_a_failing_knowledge_search_gives_no_facts_instead_of_an_error() -> None:
    assert run(fetch_knowledge(StubRetriever(fail=True), "parking?", "call-1")) == ""
    assert run(fetch_knowledge(None, "parking?", "call-1")) == ""


def test_the_flow_tools_are_offered_with_the_registry_tools(registry: ToolRegistry) -> None:
    anthropic = anthropic_tools(registry)
    names = [t["name"] for t in anthropic]
    assert names == [*registry.names(), "end_call", "transfer_to_human"]
    assert all(t["description"] and t["input_schema"]["type"] == "object" for t in anthropic)
    openai = openai_tools(registry)
    assert [t["function"]["name"] for t in openai] == names
    assert openai[-1]["type"] == "function" and "parameters" in openai[-1]["function"]
    assert {"end_call", "transfer_to_human"} == FLOW_TOOL_NAMES
    assert [t["name"] for t in anthropic_tools(None)] == ["end_call", "transfer_to_human"]

    own = ToolRegistry()

    @own.tool
    def end_call(reason: str) -> str:
        """Custom hang-up tool."""
        return reason

    assert [t["name"] for t in anthropic_tools(own)] == ["end_call", "transfer_to_human"]
    assert anthropic_tools(own)[0]["description"] == "Custom hang-up tool."


def test_backoff_grows_with_jitter_and_honours_retry_after() -> None:
    backoff = Backoff(base_s=0.5, cap_s=4.0)
    assert [backoff.delay(n, rand=lambda: 1.0) for n in (1, 2, 3, 4, 5)] == [
        0.5, 1.0, 2.0, 4.0, 4.0]
    assert backoff.delay(3, rand=lambda: 0.0) == 1.0  # at least half the step
    assert backoff.delay(1, retry_after_s=3.0, rand=lambda: 0.0) == 3.0
    assert backoff.delay(1, retry_after_s=60.0, rand=lambda: 0.0) == 4.0  # honoured up to the cap
    assert retry_after({"retry-after-ms": "250"}) == 0.25
    assert retry_after({"retry-after": "2"}) == 2.0
    # an HTTP-date (RFC 9110) counts from now
    at = 1792567680.0  # Wed, 21 Oct 2026 07:28:00 GMT
    assert retry_after({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}, lambda: at - 3) == 3.0
    assert retry_after(None) is None


def test_said_sentences_are_distinct_parts_even_with_the_same_text() -> None:
    c = Conversation("call-1")
    c.begin(turn("Hi"))
    c.said("Okay.")
    c.said("Okay.")
    c.begin(turn("Hm", heard=("Okay.",)))  # only one of the two was heard
    assert [p.text for p in c.parts if isinstance(p, Said)] == ["Okay."]


def test_a_turn_the_caller_went_on_with_replaces_it_and_its_unheard_reply() -> None:
    c = Conversation("call-1")
    c.begin(turn("Book a cleaning Friday at 9.", heard=(GREETING,)))
    c.said("Shall I book it?")
    c.begin(turn("Yes.", heard=(GREETING, "Shall I book it?")))
    c.said("One moment while I book that.")
    c.tool_call(ToolCall("book_appointment", {}, "toolu_1"))  # cut off: it never ran
    joined = Turn(call_id="call-1", caller=CALLER, text="Yes. please.",
                  heard=(GREETING, "Shall I book it?"), joins="Yes.")
    c.begin(joined)
    assert shape(c) == [
        ("user", ["Book a cleaning Friday at 9."]),
        ("assistant", ["Shall I book it?"]),
        ("user", ["Yes. please."]),
    ]
    assert c.pending_tool is None


def test_a_join_never_drops_a_tool_result_or_an_older_turn() -> None:
    c = Conversation("call-1")
    c.begin(turn("Do I have an appointment?"))
    call = ToolCall("check_appointment", {}, "toolu_1")
    c.tool_call(call)
    c.tool_result(call, ToolOutcome(True, {"ok": True, "data": []}))
    c.begin(Turn(call_id="call-1", caller=CALLER, text="Do I have an appointment? Friday?",
                 joins="Do I have an appointment?"))
    kinds = [type(p).__name__ for p in c.parts]
    assert kinds == ["Utterance", "ToolCall", "ToolReturn", "Utterance"]
    c.begin(Turn(call_id="call-1", caller=CALLER, text="Something else. Too.",
                 joins="Something else."))  # not the last turn: nothing is dropped
    assert [p.text for p in c.parts if isinstance(p, Utterance)][-2:] == [
        "Do I have an appointment? Friday?", "Something else. Too."]
