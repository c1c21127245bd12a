"""The provider-neutral prompt: the flow's system prompt, this turn's context, the history.

`system` is `settings.system_prompt` and never changes within a process, so providers can
cache it. `context` changes every turn: the current date and time in the business's time
zone (so "next Tuesday" can be resolved) and the knowledge-base facts retrieved for the
caller's latest words. `fetch_knowledge` runs the retriever; a failing search is logged and
the reply goes on without facts. Touches the retriever only.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters.llm.conversation import Conversation, Message
from knowledge.retrieval import format_for_prompt

log = logging.getLogger("dialflow.brain.llm")

DEFAULT_SYSTEM_PROMPT = (
    "You are a friendly assistant answering a phone call. Keep every answer to one or two "
    "short spoken sentences; never use lists or markdown."
)


class Searcher(Protocol):
    async def asearch(self, question: str) -> list[Any]: ...


@dataclass(frozen=True)
class Prompt:
    system: str
    context: str
    messages: tuple[Message, ...]


def system_prompt(settings: Any) -> str:
    """The flow's system prompt (a default when flows.yaml has none)."""
    text = str(getattr(settings, "system_prompt", "") or "").strip()
    return text or DEFAULT_SYSTEM_PROMPT


def business_timezone(settings: Any) -> ZoneInfo:
    name = (getattr(settings, "business", None) or {}).get("timezone") or "UTC"
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def now_line(timezone: ZoneInfo, now: dt.datetime | None = None) -> str:
    now = (now or dt.datetime.now(dt.UTC)).astimezone(timezone)
    clock = now.strftime("%I:%M %p").lstrip("0")
    return f"Current date and time: {now:%A} {now.day} {now:%B %Y}, {clock} ({timezone.key})."


async def fetch_knowledge(retriever: Searcher | None, text: str, call_id: str) -> str:
    """The knowledge block for the caller's words; "" when none matched or search failed."""
    if retriever is None or not text.strip():
        return ""
    try:
        hits = await retriever.asearch(text)
    except Exception as exc:
        log.warning("call %s: knowledge search failed, answering without it: %s: %s",
                    call_id, type(exc).__name__, exc)
        return ""
    return format_for_prompt(hits)


def build_prompt(
    system: str, conversation: Conversation, timezone: ZoneInfo, now: dt.datetime | None = None
) -> Prompt:
    context = "\n\n".join(p for p in (now_line(timezone, now), conversation.knowledge) if p)
    return Prompt(system=system, context=context, messages=tuple(conversation.messages()))
