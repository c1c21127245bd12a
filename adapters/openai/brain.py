"""`OpenAIBrain`: the engine's `Brain` over any OpenAI-compatible chat-completions server.

OpenAI itself, vLLM, Ollama, llama.cpp, LiteLLM...: `openai.AsyncOpenAI` with
`chat.completions.create(stream=True, tools=...)`. Content deltas feed the shared sentence
splitter; `tool_calls` deltas are assembled by index (id and name from the first piece,
`arguments` concatenated) and yielded once the stream ends. A stream is complete only when
a choice has a `finish_reason` (anything shorter is `IncompleteStream`). Tool outcomes go
back as `tool` messages and the model continues.

The server is `base_url`, else `settings.llm.base_url`, else `env["OPENAI_BASE_URL"]`, else
OpenAI's. The key is `env["OPENAI_API_KEY"]`; a self-hosted server (any base URL) may need
none, so a placeholder is sent then. Only for OpenAI's own endpoint: `max_completion_tokens`
(instead of `max_tokens`, which compatible servers expect), `parallel_tool_calls: false`,
and a Claude model name in flows.yaml (the default file names one) falls back to
`DEFAULT_MODEL` with a warning. The SDK's own retries are off; the shared loop retries.
Talks only to that server.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import openai

from adapters.llm.config import LLMConfig, api_key
from adapters.llm.errors import IncompleteStream
from adapters.llm.prompt import Prompt, Searcher
from adapters.llm.streaming import (
    DEFAULT_TIMEOUT_S,
    Failure,
    StreamEvent,
    StreamingBrain,
    TextDelta,
)
from adapters.llm.tools import openai_tools
from adapters.openai.brain_messages import chat_messages
from adapters.retry import Backoff, retry_after
from engine.environment import OPENAI_API_KEY, OPENAI_BASE_URL
from engine.ports import ToolCall

if TYPE_CHECKING:
    from tools.registry import ToolRegistry

KEY_ENV = OPENAI_API_KEY
BASE_URL_ENV = OPENAI_BASE_URL
DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
NO_KEY = "no-key-needed"  # sent to self-hosted servers when OPENAI_API_KEY is unset
TRANSIENT_STATUS = frozenset({408, 409, 429})
FINAL_STREAM_ERRORS = frozenset({"invalid_request_error", "authentication_error",
                                 "permission_error", "not_found_error"})

log = logging.getLogger("dialflow.brain.openai")


@dataclass
class _ToolBlock:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list)


class OpenAIBrain(StreamingBrain):
    name = "openai"

    def __init__(
        self,
        settings: Any,
        retriever: Searcher | None,
        registry: ToolRegistry | None,
        *,
        env: Mapping[str, str] = os.environ,
        base_url: str | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        max_retries: int = 3,
        backoff_s: float = 0.5,
        max_calls: int = 1000,
    ) -> None:
        config = LLMConfig.from_settings(getattr(settings, "llm", None),
                                         default_model=DEFAULT_MODEL)
        server = base_url or config.base_url or env.get(BASE_URL_ENV) or None
        self.official = server is None
        if self.official and config.model.lower().startswith("claude"):
            log.warning("settings.llm.model is %s, not an OpenAI model; using %s",
                        config.model, DEFAULT_MODEL)
            config = replace(config, model=DEFAULT_MODEL)
        super().__init__(settings, retriever, registry, config=config, timeout=timeout,
                         max_retries=max_retries, backoff=Backoff(base_s=backoff_s),
                         max_calls=max_calls)
        self.base_url = server or DEFAULT_BASE_URL
        if self.official:
            key = api_key(env, KEY_ENV, "openai", f"or point settings.llm.base_url or "
                          f"{BASE_URL_ENV} at a self-hosted server that needs none")
        else:
            key = (env.get(KEY_ENV) or "").strip() or NO_KEY
        self.tools = openai_tools(registry)
        self.client = openai.AsyncOpenAI(
            api_key=key, base_url=self.base_url, timeout=timeout, max_retries=0
        )

    def request(self, prompt: Prompt) -> dict[str, Any]:
        """The `chat.completions.create` arguments for `prompt` (without `stream`)."""
        params: dict[str, Any] = {"model": self.config.model, "messages": chat_messages(prompt)}
        tokens = "max_completion_tokens" if self.official else "max_tokens"
        params[tokens] = self.config.max_tokens
        if self.config.temperature is not None:
            params["temperature"] = self.config.temperature
        if self.tools:
            params["tools"] = self.tools
            if self.official:
                params["parallel_tool_calls"] = False
        return params

    async def _stream(self, prompt: Prompt, call_id: str) -> AsyncIterator[StreamEvent]:
        stream = await self.client.chat.completions.create(**self.request(prompt), stream=True)
        calls: dict[int, _ToolBlock] = {}
        finish = None
        async with stream:
            async for chunk in stream:
                for choice in chunk.choices or ():
                    if choice.index not in (0, None):
                        continue
                    delta = choice.delta
                    if delta is not None and delta.content:
                        yield TextDelta(delta.content)
                    for piece in (delta.tool_calls if delta is not None else None) or ():
                        self._add_piece(calls, piece)
                    if choice.finish_reason:
                        finish = choice.finish_reason
        if finish is None:
            raise IncompleteStream("the stream ended without a finish_reason")
        if finish == "length":
            self.log.warning("call %s: reply cut at max_tokens (%d)", call_id,
                             self.config.max_tokens)
        for index in sorted(calls):
            block = calls[index]
            if block.name:
                yield ToolCall(block.name, self._args(block, call_id), block.id)

    @staticmethod
    def _add_piece(calls: dict[int, _ToolBlock], piece: Any) -> None:
        index = piece.index if piece.index is not None else 0
        block = calls.setdefault(index, _ToolBlock())
        if piece.id:
            block.id = piece.id
        function = piece.function
        if function is None:
            return
        if function.name and function.name != block.name:
            # Servers send the name once; a few stream it in pieces.
            block.name = function.name if not block.name else block.name + function.name
        if function.arguments:
            block.arguments.append(function.arguments)

    def _args(self, block: _ToolBlock, call_id: str) -> dict[str, Any]:
        text = "".join(block.arguments).strip()
        if not text:
            return {}
        try:
            args = json.loads(text)
        except json.JSONDecodeError:
            self.log.warning("call %s: tool %s arguments are not valid JSON; passing none",
                             call_id, block.name)
            return {}
        return args if isinstance(args, dict) else {}

    def _classify(self, exc: Exception) -> Failure:
        if isinstance(exc, openai.APITimeoutError):
            return Failure.TIMEOUT
        if isinstance(exc, openai.APIStatusError):
            status = exc.status_code
            return Failure.RETRY if status in TRANSIENT_STATUS or status >= 500 else Failure.FATAL
        if isinstance(exc, openai.APIConnectionError | IncompleteStream):
            return Failure.RETRY
        if isinstance(exc, openai.APIError):  # an error object in the middle of the stream
            body = exc.body if isinstance(exc.body, dict) else {}
            kind = body.get("type") or body.get("code")
            return Failure.FATAL if kind in FINAL_STREAM_ERRORS else Failure.RETRY
        return Failure.FATAL

    def _retry_after(self, exc: Exception) -> float | None:
        if isinstance(exc, openai.APIStatusError):
            return retry_after(exc.response.headers)
        return None
