"""`StreamingBrain`: the engine's `Brain` port over a streaming LLM API, for both providers.

`respond` starts the knowledge search first, records the caller's turn (or continues after
a tool result; a speculative turn's history is put back as it was if the turn is dropped),
then streams the provider's reply: text deltas go through the sentence splitter and each
complete `Sentence` is yielded at once (and recorded as said); a tool call is yielded last,
once the stream has ended. Transient failures (rate limits, 5xx, overload, dropped
connections, streams cut short) are retried with backoff and jitter, at
most `max_retries` times and only while nothing has been yielded; a timeout is not retried
(the flow's reply timer is already running). Then `LLMError`/`LLMTimeout` is raised and
the engine turns it into `llm.error`.

A provider adapter subclasses it with `_stream` (one request as `TextDelta`/`ToolCall`
events, raising `IncompleteStream` when the stream ends early), `_classify` (which failures
are transient) and optionally `_retry_after`. Logs name the call id, never the key.
Touches the retriever and, through the subclass, the provider's API.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from adapters.llm.config import LLMConfig
from adapters.llm.conversation import Conversations
from adapters.llm.errors import LLMError, LLMTimeout
from adapters.llm.prompt import (
    Prompt,
    Searcher,
    build_prompt,
    business_timezone,
    fetch_knowledge,
    system_prompt,
)
from adapters.retry import Backoff
from engine.ports import BrainOutput, Sentence, ToolCall, ToolOutcome, Turn
from engine.sentences import SentenceSplitter
from flows.model import Settings

if TYPE_CHECKING:
    from tools.registry import ToolRegistry

DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class TextDelta:
    text: str


StreamEvent = TextDelta | ToolCall  # a provider's tool call keeps its shape (and id) to the end


class Failure(StrEnum):
    RETRY = "retry"  # transient: try again if nothing was yielded yet
    TIMEOUT = "timeout"
    FATAL = "fatal"


class StreamingBrain(ABC):
    name = "llm"

    @classmethod
    def from_flow(cls, settings: Settings, env: Mapping[str, str], *,
                  retriever: Searcher | None = None, registry: ToolRegistry | None = None,
                  **_: Any) -> StreamingBrain:
        """The provider convention (engine.providers): `settings.llm` and the system
        prompt; the key from `env`."""
        return cls(settings, retriever, registry, env=env)  # type: ignore[call-arg]

    def __init__(
        self,
        settings: Any,
        retriever: Searcher | None,
        registry: ToolRegistry | None,
        *,
        config: LLMConfig,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = 3,
        backoff: Backoff | None = None,
        max_calls: int = 1000,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.registry = registry
        self.config = config
        self.timeout = timeout
        self.max_retries = max(0, max_retries)
        self.backoff = backoff or Backoff()
        self.conversations = Conversations(max_calls)
        self.system = system_prompt(settings)
        self.timezone = business_timezone(settings)
        self.log = logging.getLogger(f"dialflow.brain.{self.name}")

    # --- provider hooks --------------------------------------------------------------------

    @abstractmethod
    def _stream(self, prompt: Prompt, call_id: str) -> AsyncIterator[StreamEvent]:
        """One streaming request: its text deltas and complete tool calls."""

    @abstractmethod
    def _classify(self, exc: Exception) -> Failure:
        """Is this failure transient, a timeout, or final?"""

    def _retry_after(self, exc: Exception) -> float | None:
        """The server's requested wait before a retry, if it said."""
        return None

    # --- the Brain port --------------------------------------------------------------------

    async def warm(self) -> None:
        """Nothing to load: the client is built in the constructor and connects on use."""
        self.log.info("%s brain ready: model %s", self.name, self.config.model)

    def forget(self, call_id: str) -> None:
        """Drop a call's history (call it when the call ends)."""
        self.conversations.forget(call_id)

    def tool_result(self, call_id: str, tool: ToolCall, outcome: ToolOutcome) -> None:
        conversation = self.conversations.peek(call_id)
        if conversation is None:
            self.log.warning("call %s: tool result for %s (%s) belongs to no known call",
                             call_id, tool.name, tool.id or "no id")
            return
        conversation.tool_result(tool, outcome)

    tentative_ok = True  # a speculative turn's history is restored if it is dropped

    async def respond(self, turn: Turn) -> AsyncIterator[BrainOutput]:
        if turn.tentative is not None:
            turn.tentative.restore_on_drop(self.conversations.entries, turn.call_id)
        conversation = self.conversations.get(turn.call_id)
        search = None
        if not conversation.continues(turn):
            search = asyncio.create_task(fetch_knowledge(self.retriever, turn.text, turn.call_id))
        try:
            continuing = conversation.begin(turn)
            if search is not None:
                conversation.knowledge = await search
                turn.mark("retrieval")
        finally:
            if search is not None and not search.done():
                search.cancel()
        prompt = build_prompt(self.system, conversation, self.timezone)
        self.log.debug("call %s: %s request (%s, %d messages)", turn.call_id, self.name,
                       "continuing after a tool" if continuing else "new turn",
                       len(prompt.messages))
        attempt = 0
        while True:
            attempt += 1
            splitter = SentenceSplitter()
            spoke = False
            tool: ToolCall | None = None
            try:
                async with aclosing(self._stream(prompt, turn.call_id)) as events:
                    async for event in events:
                        if isinstance(event, TextDelta):
                            turn.mark("llm_first_token")  # stamped once per turn
                            for text in splitter.feed(event.text):
                                conversation.said(text)
                                spoke = True
                                yield Sentence(text)
                        elif tool is None:
                            tool = event
                        else:
                            self.log.warning("call %s: ignored a second tool call (%s)",
                                             turn.call_id, event.name)
                for text in splitter.flush():
                    conversation.said(text)
                    spoke = True
                    yield Sentence(text)
                break
            except Exception as exc:
                failure = self._classify(exc)
                if failure is Failure.TIMEOUT:
                    raise LLMTimeout(f"{self.name} ({self.config.model}) did not answer within "
                                     f"{self.timeout:g} s") from exc
                if spoke or failure is not Failure.RETRY or attempt > self.max_retries:
                    where = " mid-reply" if spoke else ""
                    tries = f" after {attempt} attempts" if attempt > 1 else ""
                    raise LLMError(f"{self.name} request failed{where}{tries}: "
                                   f"{type(exc).__name__}: {exc}") from exc
                delay = self.backoff.delay(attempt, self._retry_after(exc))
                self.log.warning("call %s: %s request failed (%s: %s); retry %d/%d in %.2f s",
                                 turn.call_id, self.name, type(exc).__name__,
                                 _short(exc), attempt, self.max_retries, delay)
                await asyncio.sleep(delay)
        if tool is not None:
            call = tool if tool.id else ToolCall(tool.name, tool.args,
                                                 f"tool_{secrets.token_hex(6)}")
            conversation.tool_call(call)
            self.log.info("call %s: %s asks for tool %s", turn.call_id, self.name, call.name)
            yield call
        elif not spoke:
            self.log.warning("call %s: %s returned an empty reply", turn.call_id, self.name)


def _short(exc: Exception, limit: int = 200) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[: limit - 1] + "…"
