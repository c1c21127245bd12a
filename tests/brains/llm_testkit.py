"""Helpers for the LLM brain tests: settings, a stub retriever, turns, and running a reply.

Nothing here reaches the network; the brains under test talk to the fakes in `tests.fakes`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Coroutine
from typing import Any, TypeVar

from engine.ports import BrainOutput, Turn
from flows.model import Settings
from knowledge.retrieval import Hit

ANTHROPIC_KEY = "sk-ant-fake-secret-1234"
OPENAI_KEY = "sk-fake-openai-secret-5678"
SYSTEM = "You are the receptionist of Test Dental. Keep answers short."
CALLER = "+15550101234"
GREETING = "Thank you for calling Test Dental. How can I help you today?"
#: A hang guard for the event loop of one test, not a timing assertion.
GUARD_S = 30.0

T = TypeVar("T")


def make_settings(**llm: Any) -> Settings:
    llm.setdefault("model", "test-model")
    llm.setdefault("max_tokens", 123)
    return Settings(system_prompt=SYSTEM, llm=llm,
                    business={"timezone": "America/New_York"})


class StubRetriever:
    """`asearch` answers `hits` and records the questions; `fail` makes it raise."""

    def __init__(self, hits: list[Hit] | None = None, fail: bool = False) -> None:
        self.hits = hits or []
        self.fail = fail
        self.questions: list[str] = []

    async def asearch(self, question: str) -> list[Hit]:
        self.questions.append(question)
        if self.fail:
            raise RuntimeError("the knowledge store is down")
        return list(self.hits)


PARKING = Hit(doc_id="parking", title="Parking", distance=0.3,
              text="Free parking is behind the building on Elm Street.")


def turn(text: str, heard: tuple[str, ...] = (), call_id: str = "call-1") -> Turn:
    return Turn(call_id=call_id, caller=CALLER, text=text, heard=heard)


class LoopHolder:
    """The event loop of the running test: a brain's SDK client keeps connections bound to
    the loop it first ran on, so every `run` of one test shares a loop (as in a server)."""

    runner: asyncio.Runner | None = None


def run(coro: Coroutine[Any, Any, T]) -> T:
    guarded = asyncio.wait_for(coro, GUARD_S)
    if LoopHolder.runner is None:
        return asyncio.run(guarded)
    return LoopHolder.runner.run(guarded)


async def drain(stream: AsyncIterator[BrainOutput]) -> list[BrainOutput]:
    return [item async for item in stream]


def reply(brain: Any, t: Turn) -> list[BrainOutput]:
    """Everything `brain.respond(t)` yields."""
    return run(drain(brain.respond(t)))
