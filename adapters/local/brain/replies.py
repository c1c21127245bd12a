"""The brain's fixed lines and the small helpers every dialogue step uses to reply: say
sentences, ask a question (remembered, to repeat it or check it was heard), hand off to a
tool, and close a task with "anything else?". Also `TurnContext`, what a step gets to read,
and `unpack`, a tool outcome in the shape the tools runner gives (`ToolResult.to_llm()`).
Touches nothing but the `CallState` it is given.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from typing import Any

from adapters.local.brain.intents import IntentResult
from adapters.local.brain.state import CallState, Stage
from engine.ports import Sentence, ToolCall, ToolOutcome

Out = Sentence | ToolCall

ANYTHING_ELSE = "Is there anything else I can help with?"
DONT_KNOW = "I'm sorry, I don't have that information."
OFFER_HELP = (
    "I can take a message for our team, or connect you with someone now. "
    "Which would you prefer?"
)
NOT_CAUGHT = "Sorry, I didn't catch that."
SORRY_FAILED = "I'm sorry, something went wrong on my side."
HOW_CAN_I_HELP = "Sure, what can I help you with?"
WITHHELD = (
    "I'm sorry, I can only look up appointments for the number you're calling from, "
    "and it's hidden on this call."
)


@dataclass(frozen=True)
class TurnContext:
    """One caller utterance as a dialogue step sees it."""

    text: str
    intent: IntentResult
    now: dt.datetime  # aware, in the business's time zone
    caller: str | None  # the caller id in E.164, None when withheld
    heard: tuple[str, ...] = ()

    @property
    def today(self) -> dt.date:
        return self.now.date()

    def is_(self, *intents: str) -> bool:
        return self.intent.intent in intents


@dataclass(frozen=True)
class ToolAnswer:
    """A tool outcome unpacked: data when ok, else the error code, message and fields."""

    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    code: str = ""
    message: str = ""
    error: dict[str, Any] = field(default_factory=dict)


def unpack(outcome: ToolOutcome) -> ToolAnswer:
    """Read `{"ok": true, "data": ...}` / `{"ok": false, "error": {...}}` (or plain data)."""
    result = outcome.result
    if isinstance(result, dict) and "ok" in result and ("data" in result or "error" in result):
        if result["ok"] and outcome.ok:
            data = result.get("data")
            return ToolAnswer(True, data if isinstance(data, dict) else {"value": data})
        error = result.get("error") if isinstance(result.get("error"), dict) else {}
        return ToolAnswer(
            False,
            code=str(error.get("code") or "internal_error"),
            message=str(error.get("message") or outcome.error),
            error=error,
        )
    if outcome.ok:
        return ToolAnswer(True, result if isinstance(result, dict) else {"value": result})
    return ToolAnswer(False, code="internal_error", message=outcome.error)


def say(*texts: str) -> list[Out]:
    return [Sentence(t) for t in texts if t]


def ask(state: CallState, *texts: str) -> list[Out]:
    """Say `texts`, the last of which is a question the next utterance answers."""
    state.question = tuple(t for t in texts if t)
    return say(*texts)


def use_tool(state: CallState, name: str, args: dict[str, Any], *before: str) -> list[Out]:
    """Say `before`, then ask the flow to run tool `name`; its outcome comes back later."""
    state.before_tool, state.stage = state.stage, Stage.WAIT_TOOL
    call = ToolCall(name, dict(args), id=f"rules-{uuid.uuid4().hex[:12]}")
    state.pending, state.outcome = call, None
    return [*say(*before), call]


def anything_else(state: CallState, *before: str) -> list[Out]:
    """Close the task: say `before`, then "Is there anything else I can help with?"."""
    state.reset_task()
    state.stage = Stage.ANYTHING_ELSE
    return ask(state, *before, ANYTHING_ELSE)


def offer_help(state: CallState, *before: str) -> list[Out]:
    """Say `before`, then offer a message or a person."""
    state.reset_task()
    state.stage = Stage.OFFER_HELP
    return ask(state, *before, OFFER_HELP)


def heard_question(state: CallState, heard: tuple[str, ...]) -> bool:
    """Did the caller hear the last question before answering? (True when unknown.)"""
    if not heard or not state.question:
        return True
    return state.question[-1] in heard[-2:]
