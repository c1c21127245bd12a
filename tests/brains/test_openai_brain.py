"""`OpenAIBrain` through the real `openai` SDK against the fake chat-completions server."""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

import pytest
from llm_testkit import (
    GREETING,
    OPENAI_KEY,
    PARKING,
    SYSTEM,
    StubRetriever,
    drain,
    make_settings,
    reply,
    run,
    turn,
)

from adapters.llm.errors import LLMError, LLMTimeout, MissingKeyError
from adapters.llm.prompt import Prompt
from adapters.openai.brain import DEFAULT_MODEL, NO_KEY, OpenAIBrain
from engine.ports import Sentence, ToolCall, ToolOutcome
from flows.model import Settings
from tests.fakes.openai_server import (
    ChatReply,
    Cut,
    FakeOpenAIServer,
    FnCall,
    Gate,
    Stall,
    StreamError,
)
from tools.registry import ToolRegistry

CHAT = "/v1/chat/completions"


def make_brain(server: FakeOpenAIServer, registry: ToolRegistry | None = None,
               retriever: Any = None, *, env: dict[str, str] | None = None,
               **kwargs: Any) -> OpenAIBrain:
    kwargs.setdefault("backoff_s", 0.001)
    kwargs.setdefault("timeout", 5.0)
    settings = kwargs.pop("settings", None) or make_settings(
        model="llama-3.1-8b", max_tokens=222, temperature=0.3, base_url=server.base_url)
    env = {"OPENAI_API_KEY": OPENAI_KEY} if env is None else env
    return OpenAIBrain(settings, retriever, registry, env=env, **kwargs)


def bodies(server: FakeOpenAIServer) -> list[dict[str, Any]]:
    return [r.body for r in server.requests_to(CHAT)]


def test_the_first_sentence_is_yielded_before_the_reply_finishes_streaming(
    openai_server: FakeOpenAIServer,
) -> None:
    release = threading.Event()
    openai_server.script_chat(ChatReply("Hi! ", "How can I ", Gate(release), "help", " you?"))
    brain = make_brain(openai_server)

    async def scenario() -> tuple[Any, int, list[Any]]:
        stream = brain.respond(turn("Hello"))
        first = await stream.__anext__()
        finished_when_first_arrived = openai_server.chat_finished
        release.set()
        return first, finished_when_first_arrived, await drain(stream)

    first, finished_then, rest = run(scenario())
    assert first == Sentence("Hi!")
    assert finished_then == 0
    assert rest == [Sentence("How can I help you?")]
    assert openai_server.chat_finished == 1


def test_streamed_tool_calls_are_assembled_and_the_model_continues_with_the_result(
    openai_server: FakeOpenAIServer, registry: ToolRegistry,
) -> None:
    args = {"date": "2026-12-01", "time": "15:00"}
    openai_server.script_chat(
        ChatReply("One moment. ", FnCall("check_appointment", args, id="call_abc", pieces=6)),
        ChatReply("You have a cleaning on Tuesday at 3 p.m."),
    )
    brain = make_brain(openai_server, registry)
    t = turn("Do I have an appointment?", heard=(GREETING,))
    first = reply(brain, t)
    assert first == [Sentence("One moment."), ToolCall("check_appointment", args, "call_abc")]
    outcome = {"ok": True, "data": [{"id": 3, "when": "Tuesday 3 PM"}]}
    brain.tool_result(t.call_id, first[-1], ToolOutcome(True, outcome))
    assert reply(brain, t) == [Sentence("You have a cleaning on Tuesday at 3 p.m.")]

    messages = bodies(openai_server)[-1]["messages"]
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "tool"]
    assistant, tool = messages[2], messages[3]
    assert assistant["content"] == "One moment."
    assert assistant["tool_calls"] == [{"id": "call_abc", "type": "function", "function": {
        "name": "check_appointment", "arguments": json.dumps(args)}}]
    assert tool["tool_call_id"] == "call_abc" and json.loads(tool["content"]) == outcome


def test_a_server_that_sends_no_tool_call_id_gets_a_consistent_one(
    openai_server: FakeOpenAIServer,
) -> None:
    openai_server.script_chat(ChatReply(FnCall("transfer_to_human", {"reason": "billing"},
                                               id=None)),
                              ChatReply("Sure."))
    brain = make_brain(openai_server)
    t = turn("Let me talk to a person.")
    [call] = reply(brain, t)
    assert isinstance(call, ToolCall) and call.id
    assert call.name == "transfer_to_human" and call.args == {"reason": "billing"}
    brain.tool_result(t.call_id, call, ToolOutcome(False, None, "transfer failed"))
    reply(brain, t)
    messages = bodies(openai_server)[-1]["messages"]
    assert messages[2]["tool_calls"][0]["id"] == call.id == messages[3]["tool_call_id"]


def test_only_heard_sentences_stay_in_the_history(openai_server: FakeOpenAIServer) -> None:
    openai_server.script_chat(ChatReply("We are open weekdays. ", "Saturday mornings too. ",
                                        "Sundays we are closed."),
                              ChatReply("Yes."))
    brain = make_brain(openai_server)
    reply(brain, turn("When are you open?", heard=(GREETING,)))
    reply(brain, turn("Saturday?", heard=(GREETING, "We are open weekdays.")))
    messages = bodies(openai_server)[-1]["messages"]
    assert messages[1:] == [
        {"role": "user", "content": "When are you open?"},
        {"role": "assistant", "content": "We are open weekdays."},
        {"role": "user", "content": "Saturday?"},
    ]


@pytest.mark.parametrize("status", [429, 500, 503])
def test_http_failures_are_retried(openai_server: FakeOpenAIServer, status: int) -> None:
    openai_server.fail_next(2, status)
    openai_server.script_chat(ChatReply("Hello."))
    assert reply(make_brain(openai_server), turn("Hi")) == [Sentence("Hello.")]
    assert len(bodies(openai_server)) == 3


@pytest.mark.parametrize("failure", [StreamError(), Cut()], ids=["error-chunk", "disconnect"])
def test_streams_failing_before_a_sentence_are_retried(
    openai_server: FakeOpenAIServer, failure: Any,
) -> None:
    openai_server.script_chat(ChatReply("Hel", failure), ChatReply("Hello."))
    assert reply(make_brain(openai_server), turn("Hi")) == [Sentence("Hello.")]
    assert len(bodies(openai_server)) == 2


def test_after_three_retries_the_failure_is_raised(openai_server: FakeOpenAIServer) -> None:
    openai_server.fail_next(6, 429)
    with pytest.raises(LLMError, match=r"after 4 attempts.*RateLimitError"):
        reply(make_brain(openai_server), turn("Hi"))
    assert len(bodies(openai_server)) == 4


def test_a_stalled_stream_times_out_and_raises(openai_server: FakeOpenAIServer) -> None:
    openai_server.script_chat(ChatReply("Let me", Stall()))
    with pytest.raises(LLMTimeout):
        reply(make_brain(openai_server, timeout=0.3), turn("Hi"))
    assert len(bodies(openai_server)) == 1


def test_the_request_carries_prompt_knowledge_tools_and_settings(
    openai_server: FakeOpenAIServer, registry: ToolRegistry, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="dialflow")
    retriever = StubRetriever([PARKING])
    openai_server.script_chat(ChatReply("It's free, behind the building."))
    brain = make_brain(openai_server, registry, retriever)
    reply(brain, turn("Where can I park?", call_id="call-77"))
    [request] = openai_server.requests_to(CHAT)
    body = request.body
    assert request.headers["authorization"] == f"Bearer {OPENAI_KEY}"
    assert body["model"] == "llama-3.1-8b" and body["max_tokens"] == 222
    assert body["temperature"] == 0.3 and body["stream"] is True
    assert "max_completion_tokens" not in body and "parallel_tool_calls" not in body
    system = body["messages"][0]
    assert system["role"] == "system" and system["content"].startswith(SYSTEM)
    assert "Free parking is behind the building on Elm Street." in system["content"]
    assert retriever.questions == ["Where can I park?"]
    names = [t["function"]["name"] for t in body["tools"]]
    assert names == [*registry.names(), "end_call", "transfer_to_human"]
    assert "call-77" in caplog.text and OPENAI_KEY not in caplog.text


def test_a_local_server_needs_no_key(openai_server: FakeOpenAIServer) -> None:
    with FakeOpenAIServer() as local:  # answers without checking a key
        local.script_chat(ChatReply("Hi."))
        brain = make_brain(local, env={})
        assert reply(brain, turn("Hello")) == [Sentence("Hi.")]
        assert local.requests_to(CHAT)[0].headers["authorization"] == f"Bearer {NO_KEY}"


def test_the_server_can_come_from_openai_base_url(openai_server: FakeOpenAIServer) -> None:
    openai_server.script_chat(ChatReply("Hi."))
    env = {"OPENAI_API_KEY": OPENAI_KEY, "OPENAI_BASE_URL": openai_server.base_url}
    brain = OpenAIBrain(make_settings(model="qwen2.5"), None, None, env=env, backoff_s=0.001)
    assert reply(brain, turn("Hello")) == [Sentence("Hi.")]
    assert bodies(openai_server)[0]["model"] == "qwen2.5"


def test_openai_itself_needs_the_key_and_gets_its_own_parameters() -> None:
    with pytest.raises(MissingKeyError, match="OPENAI_API_KEY") as error:
        OpenAIBrain(make_settings(), None, None, env={})
    assert error.value.variable == "OPENAI_API_KEY"
    claude_flow = Settings(llm={"model": "claude-sonnet-4-5", "max_tokens": 99,
                                "temperature": 0.2})
    brain = OpenAIBrain(claude_flow, None, None, env={"OPENAI_API_KEY": OPENAI_KEY})
    assert brain.base_url == "https://api.openai.com/v1"
    params = brain.request(Prompt(system="S", context="", messages=()))
    assert params["model"] == DEFAULT_MODEL  # a Claude model name means nothing to OpenAI
    assert params["max_completion_tokens"] == 99 and "max_tokens" not in params
    assert params["parallel_tool_calls"] is False and params["temperature"] == 0.2
    assert brain.name == "openai"


def test_the_fake_rejects_a_history_openai_would_reject(openai_server: FakeOpenAIServer) -> None:
    import httpx

    bad = {"model": "m", "stream": True, "messages": [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": None,
         "tool_calls": [{"id": "c1", "type": "function",
                         "function": {"name": "x", "arguments": "{}"}}]},
        {"role": "user", "content": "hello?"},
    ]}
    answer = httpx.post(f"{openai_server.base_url}/chat/completions", json=bad,
                        headers={"Authorization": f"Bearer {OPENAI_KEY}"})
    assert answer.status_code == 400
    assert "were not answered" in answer.json()["error"]["message"]
