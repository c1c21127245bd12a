"""The chat-completions request for a neutral `Prompt`: messages in the OpenAI shape.

One system message (the flow's prompt first, then this turn's context, so the stable
prefix stays cacheable by servers that cache prefixes), then the history: assistant text
with its `tool_calls`, each tool outcome as a `tool` message right after, caller words as
`user` messages. Pure data; no SDK import, touches nothing.
"""

from __future__ import annotations

import json
from typing import Any

from adapters.llm.prompt import Prompt


def chat_messages(prompt: Prompt) -> list[dict[str, Any]]:
    system = "\n\n".join(p for p in (prompt.system, prompt.context) if p)
    out: list[dict[str, Any]] = [{"role": "system", "content": system}]
    for message in prompt.messages:
        if message.role == "assistant":
            text = " ".join(message.texts)
            entry: dict[str, Any] = {"role": "assistant", "content": text or None}
            if message.tool_uses:
                entry["tool_calls"] = [
                    {"id": use.id, "type": "function",
                     "function": {"name": use.name,
                                  "arguments": json.dumps(use.args, ensure_ascii=False)}}
                    for use in message.tool_uses
                ]
            out.append(entry)
            continue
        for result in message.tool_returns:
            out.append({"role": "tool", "tool_call_id": result.call_id, "content": result.content})
        texts = message.texts
        if texts:
            out.append({"role": "user", "content": "\n".join(texts)})
    return out
