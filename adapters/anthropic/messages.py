"""The Messages API request for a neutral `Prompt`: system blocks, messages, cached tools.

Prompt caching: the flow's system prompt is the first system block and carries
`cache_control: {"type": "ephemeral"}`, as does the last tool definition, so the tools and
the system prompt (the prefix that never changes) are cached; this turn's context (date,
knowledge) follows in a second, uncached system block. Assistant sentences become one text
block, tool calls `tool_use` blocks, tool outcomes `tool_result` blocks (JSON text, with
`is_error`). Pure data; no SDK import, touches nothing.
"""

from __future__ import annotations

import copy
from typing import Any

from adapters.llm.conversation import Message, ToolReturn
from adapters.llm.prompt import Prompt
from engine.ports import ToolCall

EPHEMERAL = {"type": "ephemeral"}


def system_blocks(prompt: Prompt) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = [
        {"type": "text", "text": prompt.system, "cache_control": dict(EPHEMERAL)}
    ]
    if prompt.context:
        blocks.append({"type": "text", "text": prompt.context})
    return blocks


def cached_tools(tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A copy of `tools` with a cache breakpoint on the last one."""
    tools = copy.deepcopy(tools)
    if tools:
        tools[-1]["cache_control"] = dict(EPHEMERAL)
    return tools


def message_params(messages: tuple[Message, ...] | list[Message]) -> list[dict[str, Any]]:
    return [{"role": m.role, "content": _content(m)} for m in messages]


def _content(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    texts = iter(message.texts)
    in_text = False
    for part in message.parts:
        if isinstance(part, ToolCall):
            blocks.append({"type": "tool_use", "id": part.id, "name": part.name,
                           "input": part.args})
            in_text = False
        elif isinstance(part, ToolReturn):
            blocks.append({"type": "tool_result", "tool_use_id": part.call_id,
                           "content": part.content, "is_error": part.is_error})
            in_text = False
        elif not in_text:
            blocks.append({"type": "text", "text": next(texts)})
            in_text = True
    return blocks
