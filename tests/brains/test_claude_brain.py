"""`ClaudeBrain` through the real `anthropic` SDK against the fake Messages API on 127.0.0.1."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest
from llm_testkit import (
    ANTHROPIC_KEY,
    GREETING,
    PARKING,
    SYSTEM,
    StubRetriever,
    drain,
    make_settings,
    reply,
    run,
    turn,
)

from adapters.anthropic.brain import ClaudeBrain
from adapters.llm.errors import LLMError, LLMTimeout, MissingKeyError
from engine.ports import Sentence, ToolCall, ToolOutcome
from engine.providers import ProviderError
from tests.fakes.anthropic_server import (
    Cut,
    ErrorEvent,
    FakeAnthropicServer,
    Gate,
    HttpError,
    Pause,
    Reply,
    Stall,
    ToolUse,
)
from tools.registry import ToolRegistry


def make_brain(server: FakeAnthropicServer, registry: ToolRegistry | None = None,
               retriever: Any = None, **kwargs: Any) -> ClaudeBrain:
    kwargs.setdefault("backoff_s", 0.001)
    kwargs.setdefault("timeout", 5.0)
    settings = kwargs.pop("settings", None) or make_settings(model="claude-test-1",
                                                             max_tokens=222, temperature=0.3)
    return ClaudeBrain(settings, retriever, registry, env={"ANTHROPIC_API_KEY": ANTHROPIC_KEY},
                       base_url=server.base_url, **kwargs)


def test_the_first_sentence_is_yielded_before_the_reply_finishes_streaming(
    anthropic_server: FakeAnthropicServer,
) -> None:
    release = threading.Event()
    anthropic_server.script(Reply("Sure, we open at 8.30 a.m. ", "tomorrow. ", Gate(release),
                                  "Anything ", Pause(0.01), "else?"))
    brain = make_brain(anthropic_server)

    async def scenario() -> tuple[Any, int, list[Any]]:
        stream = brain.respond(turn("When do you open?"))
        first = await stream.__anext__()
        finished_when_first_arrived = anthropic_server.finished
        release.set()  # only now may the fake send the rest of the reply
        return first, finished_when_first_arrived, await drain(stream)

    first, finished_then, rest = run(scenario())
    assert first == Sentence("Sure, we open at 8.30 a.m. tomorrow.")
    assert finished_then == 0
    assert rest == [Sentence("Anything else?")]
    assert anthropic_server.finished == 1


def test_a_tool_use_becomes_a_tool_call_and_claude_continues_with_its_result(
    anthropic_server: FakeAnthropicServer, registry: ToolRegistry,
) -> None:
    args = {"name": "Ana Lopez", "phone": "+15550101234", "date": "2026-12-01",
            "time": "15:00", "reason": "cleaning"}
    anthropic_server.script(
        Reply("Let me book that. ", ToolUse("book_appointment", args, id="toolu_01", pieces=5)),
        Reply("You're booked for Tuesday at 3 p.m. ", "See you then!"),
    )
    brain = make_brain(anthropic_server, registry)
    t = turn("Book me a cleaning Tuesday at 3.", heard=(GREETING,))
    first = reply(brain, t)
    assert first == [Sentence("Let me book that."),
                     ToolCall("book_appointment", args, "toolu_01")]
    outcome = {"ok": True, "data": {"appointment_id": 7, "when": "Tuesday 3 PM"}}
    brain.tool_result(t.call_id, first[-1], ToolOutcome(True, outcome))
    assert reply(brain, t) == [Sentence("You're booked for Tuesday at 3 p.m."),
                               Sentence("See you then!")]

    before, after = anthropic_server.bodies
    assert before["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "Book me a cleaning Tuesday at 3."}]}
    ]
    assert after["messages"][:2] == [
        before["messages"][0],
        {"role": "assistant", "content": [
            {"type": "text", "text": "Let me book that."},
            {"type": "tool_use", "id": "toolu_01", "name": "book_appointment", "input": args},
        ]},
    ]
    [result] = after["messages"][2]["content"]  # the tool result only: no new caller words
    assert after["messages"][2]["role"] == "user" and len(after["messages"]) == 3
    assert result["type"] == "tool_result" and result["tool_use_id"] == "toolu_01"
    assert json.loads(result["content"]) == outcome and result["is_error"] is False


def test_only_sentences_the_caller_heard_stay_in_the_history(
    anthropic_server: FakeAnthropicServer,
) -> None:
    anthropic_server.script(
        Reply("We take most insurance plans. ", "That includes Delta Dental. ",
              "We also offer payment plans."),
        Reply("Yes, on Saturday mornings."),
    )
    brain = make_brain(anthropic_server)
    said = reply(brain, turn("Do you take insurance?", heard=(GREETING,)))
    assert len(said) == 3
    # Barge-in during the second sentence: the caller heard only the first one.
    reply(brain, turn("Are you open weekends?",
                      heard=(GREETING, "We take most insurance plans.")))
    messages = anthropic_server.bodies[-1]["messages"]
    assert messages == [
        {"role": "user", "content": [{"type": "text", "text": "Do you take insurance?"}]},
        {"role": "assistant", "content": [{"type": "text",
                                           "text": "We take most insurance plans."}]},
        {"role": "user", "content": [{"type": "text", "text": "Are you open weekends?"}]},
    ]


@pytest.mark.parametrize(
    "failure",
    [HttpError(429), HttpError(529), HttpError(500), HttpError(503),
     Reply(ErrorEvent("overloaded_error")), Reply("Half a sen", Cut())],
    ids=["429", "529", "500", "503", "overloaded-event", "disconnect-before-a-sentence"],
)
def test_transient_failures_are_retried_before_anything_was_said(
    anthropic_server: FakeAnthropicServer, failure: Any, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="dialflow")
    anthropic_server.script(failure, failure, Reply("We're open until five."))
    brain = make_brain(anthropic_server)
    assert reply(brain, turn("Until when are you open?", call_id="call-retry")) == [
        Sentence("We're open until five.")]
    assert len(anthropic_server.bodies) == 3
    retries = [r for r in caplog.records if "retry" in r.getMessage()]
    assert [r.getMessage().count("call-retry") for r in retries] == [1, 1]
    assert ANTHROPIC_KEY not in caplog.text


def test_after_three_retries_the_failure_is_raised(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(*[HttpError(529)] * 5)
    brain = make_brain(anthropic_server)
    with pytest.raises(LLMError, match=r"after 4 attempts.*529"):
        reply(brain, turn("Hello?"))
    assert len(anthropic_server.bodies) == 4  # the first try and three retries


def test_nothing_is_retried_once_a_sentence_was_yielded(
    anthropic_server: FakeAnthropicServer,
) -> None:
    anthropic_server.script(Reply("We open at nine. ", "And we", Cut()), Reply("Unused."))
    brain = make_brain(anthropic_server)
    said: list[Any] = []

    async def scenario() -> None:
        async for item in brain.respond(turn("When do you open?")):
            said.append(item)

    with pytest.raises(LLMError, match="mid-reply"):
        run(scenario())
    assert said == [Sentence("We open at nine.")]
    assert len(anthropic_server.bodies) == 1


def test_a_request_error_is_not_retried(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(HttpError(400, message="prompt is too long"))
    with pytest.raises(LLMError, match="prompt is too long"):
        reply(make_brain(anthropic_server), turn("Hi"))
    assert len(anthropic_server.bodies) == 1


def test_a_stalled_stream_times_out_and_raises(anthropic_server: FakeAnthropicServer) -> None:
    anthropic_server.script(Reply("Let me se", Stall()))
    brain = make_brain(anthropic_server, timeout=0.3)
    with pytest.raises(LLMTimeout, match=r"did not answer within 0\.3 s"):
        reply(brain, turn("Hi"))
    assert len(anthropic_server.bodies) == 1  # a timeout is not retried


def test_the_request_carries_prompt_knowledge_cache_points_and_settings(
    anthropic_server: FakeAnthropicServer, registry: ToolRegistry,
) -> None:
    retriever = StubRetriever([PARKING])
    anthropic_server.script(Reply("Parking is free behind the building."))
    brain = make_brain(anthropic_server, registry, retriever)
    reply(brain, turn("Where can I park?"))
    assert retriever.questions == ["Where can I park?"]
    [request] = anthropic_server.requests
    body = request.body
    assert body["model"] == "claude-test-1" and body["max_tokens"] == 222
    assert body["stream"] is True
    assert "temperature" not in body  # API 2026-10-21 rejects sampling parameters
    assert request.headers["authorization"] == f"Bearer {ANTHROPIC_KEY}"
    cached, context = body["system"]
    assert cached == {"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}
    assert "cache_control" not in context
    assert context["text"].startswith("Current date and time: ")
    assert "(America/New_York)" in context["text"]
    assert "- Parking: Free parking is behind the building on Elm Street." in context["text"]
    tools = body["tools"]
    assert [t["name"] for t in tools] == [*registry.names(), "end_call", "transfer_to_human"]
    assert tools[-1]["cache_control"] == {"type": "ephemeral"}
    assert all("cache_control" not in t for t in tools[:-1])
    assert body["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    end_call = next(t for t in tools if t["name"] == "end_call")
    assert "goodbye" in end_call["description"]


def test_a_failing_knowledge_search_does_not_stop_the_reply(
    anthropic_server: FakeAnthropicServer,
) -> None:
    anthropic_server.script(Reply("I'm not sure, let me take a message."))
    brain = make_brain(anthropic_server, retriever=StubRetriever(fail=True))
    assert reply(brain, turn("Where can I park?")) == [
        Sentence("I'm not sure, let me take a message.")]
    [_, context] = anthropic_server.bodies[0]["system"]
    assert "knowledge base" not in context["text"]


def test_the_flow_tools_end_the_reply_and_the_history_stays_valid(
    anthropic_server: FakeAnthropicServer, registry: ToolRegistry,
) -> None:
    anthropic_server.script(Reply(ToolUse("end_call", {}, id="toolu_end")),
                            Reply("Of course, what else can I do?"))
    brain = make_brain(anthropic_server, registry)
    assert reply(brain, turn("That's all, thanks.")) == [ToolCall("end_call", {}, "toolu_end")]
    # The flow said goodbye itself (no tool result); the caller still had something to add.
    goodbye = "Thank you for calling. Goodbye!"
    assert reply(brain, turn("Oh wait, one more thing.", heard=(goodbye,))) == [
        Sentence("Of course, what else can I do?")]
    messages = anthropic_server.bodies[-1]["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant", "user"]
    closing = messages[2]["content"][0]
    assert closing["tool_use_id"] == "toolu_end" and closing["is_error"] is True
    assert messages[3]["content"] == [{"type": "text", "text": goodbye}]


def test_calls_keep_separate_histories_and_forget_drops_one(
    anthropic_server: FakeAnthropicServer,
) -> None:
    anthropic_server.script(Reply("Hello A."), Reply("Hello B."), Reply("Again A."))
    brain = make_brain(anthropic_server)
    reply(brain, turn("I am A", call_id="A"))
    reply(brain, turn("I am B", call_id="B"))
    brain.forget("A")
    reply(brain, turn("Still A", heard=("Hello A.",), call_id="A"))
    assert [len(b["messages"]) for b in anthropic_server.bodies] == [1, 1, 1]
    assert anthropic_server.bodies[-1]["messages"][0]["content"][0]["text"] == "Still A"


def test_name_and_warm(anthropic_server: FakeAnthropicServer) -> None:
    brain = make_brain(anthropic_server)
    assert brain.name == "anthropic"
    run(brain.warm())
    assert anthropic_server.requests == []  # warming costs no request


def test_a_missing_key_names_the_variable() -> None:
    with pytest.raises(MissingKeyError, match="ANTHROPIC_API_KEY") as error:
        ClaudeBrain(make_settings(), None, None, env={})
    assert isinstance(error.value, ProviderError)
    assert error.value.variable == "ANTHROPIC_API_KEY"


def test_model_defaults_and_base_url_from_the_environment(
    anthropic_server: FakeAnthropicServer,
) -> None:
    from flows.model import Settings

    env = {"ANTHROPIC_API_KEY": ANTHROPIC_KEY, "ANTHROPIC_BASE_URL": anthropic_server.base_url}
    brain = ClaudeBrain(Settings(), None, None, env=env, backoff_s=0.001)
    anthropic_server.script(Reply("Hi there."))
    assert reply(brain, turn("Hello")) == [Sentence("Hi there.")]
    body = anthropic_server.bodies[0]
    assert body["model"] == "claude-sonnet-5-5" and body["max_tokens"] == 300
    assert body["system"][0]["text"].startswith("You are a friendly assistant")
