"""`ClaudeBrain`: the engine's `Brain` over Anthropic's streaming Messages API.

Uses `anthropic.AsyncAnthropic` with `messages.create(stream=True)` and reads the raw
events: `text_delta`s feed the shared sentence splitter, a `tool_use` block's input is
assembled from its `input_json_delta`s and becomes a `ToolCall` at `content_block_stop`,
and a stream is complete only at `message_stop` (anything shorter is `IncompleteStream`).
Tool outcomes go back as `tool_result` blocks and Claude continues. Model and max_tokens
come from `settings.llm`; `temperature` is not sent: the SDK 2.x has no sampling
parameters and the API version it speaks (2026-10-21) rejects them. One tool call per
reply (parallel tool use is off, the engine runs one at a time). The SDK's own retries
are off: the shared loop retries 429, 5xx, 529/`overloaded_error` (also as an in-stream
`error` event) and dropped connections. The key comes from `env["ANTHROPIC_API_KEY"]`;
the endpoint is `base_url`, else `env["ANTHROPIC_BASE_URL"]`, else Anthropic's. Talks
only to that endpoint.
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import anthropic
import httpx2  # the SDK's transport: its errors surface raw while a stream is read

from adapters.anthropic.messages import cached_tools, message_params, system_blocks
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
from adapters.llm.tools import anthropic_tools
from adapters.retry import Backoff, retry_after
from engine.environment import ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL
from engine.ports import ToolCall

if TYPE_CHECKING:
    from tools.registry import ToolRegistry

KEY_ENV = ANTHROPIC_API_KEY
BASE_URL_ENV = ANTHROPIC_BASE_URL
DEFAULT_BASE_URL = "https://api.anthropic.com"
DEFAULT_MODEL = "claude-sonnet-5-5"  # flows.yaml usually names one
TRANSIENT_STATUS = frozenset({408, 409, 429})
TRANSIENT_TYPES = frozenset({"overloaded_error", "api_error", "rate_limit_error",
                             "timeout_error"})


@dataclass
class _ToolBlock:
    id: str
    name: str
    json_parts: list[str] = field(default_factory=list)


class ClaudeBrain(StreamingBrain):
    name = "anthropic"

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
        super().__init__(settings, retriever, registry, config=config, timeout=timeout,
                         max_retries=max_retries, backoff=Backoff(base_s=backoff_s),
                         max_calls=max_calls)
        if config.temperature is not None:
            self.log.info("settings.llm.temperature is not sent to Anthropic: its Messages "
                          "API no longer takes sampling parameters")
        self.base_url = base_url or env.get(BASE_URL_ENV) or DEFAULT_BASE_URL
        self.tools = cached_tools(anthropic_tools(registry))
        self.client = anthropic.AsyncAnthropic(
            api_key=api_key(env, KEY_ENV, "anthropic"),
            base_url=self.base_url,
            timeout=timeout,
            max_retries=0,  # retried by the shared loop, which knows what was yielded
        )

    def request(self, prompt: Prompt) -> dict[str, Any]:
        """The `messages.create` arguments for `prompt` (without `stream`)."""
        params: dict[str, Any] = {
            "model": self.config.model,
            "max_tokens": self.config.max_tokens,
            "system": system_blocks(prompt),
            "messages": message_params(prompt.messages),
        }
        if self.tools:
            params["tools"] = self.tools
            params["tool_choice"] = {"type": "auto", "disable_parallel_tool_use": True}
        return params

    async def _stream(self, prompt: Prompt, call_id: str) -> AsyncIterator[StreamEvent]:
        stream = await self.client.messages.create(**self.request(prompt), stream=True)
        tools: dict[int, _ToolBlock] = {}
        stop_reason = None
        async with stream:
            async for event in stream:
                kind = event.type
                if kind == "content_block_start":
                    block = event.content_block
                    if block.type == "tool_use":
                        tools[event.index] = _ToolBlock(block.id, block.name)
                elif kind == "content_block_delta":
                    delta = event.delta
                    if delta.type == "text_delta" and delta.text:
                        yield TextDelta(delta.text)
                    elif delta.type == "input_json_delta" and event.index in tools:
                        tools[event.index].json_parts.append(delta.partial_json)
                elif kind == "content_block_stop" and event.index in tools:
                    block = tools.pop(event.index)
                    yield ToolCall(block.name, self._args(block, call_id), block.id)
                elif kind == "message_delta":
                    stop_reason = event.delta.stop_reason
                elif kind == "message_stop":
                    if stop_reason == "max_tokens":
                        self.log.warning("call %s: reply cut at max_tokens (%d)", call_id,
                                         self.config.max_tokens)
                    return
        raise IncompleteStream("the stream ended before message_stop")

    def _args(self, block: _ToolBlock, call_id: str) -> dict[str, Any]:
        text = "".join(block.json_parts).strip()
        if not text:
            return {}
        try:
            args = json.loads(text)
        except json.JSONDecodeError:
            self.log.warning("call %s: tool %s input is not valid JSON; passing no arguments",
                             call_id, block.name)
            return {}
        return args if isinstance(args, dict) else {}

    def _classify(self, exc: Exception) -> Failure:
        if isinstance(exc, anthropic.APITimeoutError | httpx2.TimeoutException):
            return Failure.TIMEOUT
        if isinstance(exc, anthropic.APIStatusError):
            status = exc.status_code
            if status in TRANSIENT_STATUS or status >= 500:
                return Failure.RETRY
            if status < 300 and exc.type in TRANSIENT_TYPES:  # an `error` event mid-stream
                return Failure.RETRY
            return Failure.FATAL
        if isinstance(exc, anthropic.APIConnectionError | httpx2.TransportError
                      | IncompleteStream):
            return Failure.RETRY
        return Failure.FATAL

    def _retry_after(self, exc: Exception) -> float | None:
        if isinstance(exc, anthropic.APIStatusError) and exc.status_code >= 400:
            return retry_after(exc.response.headers)
        return None
