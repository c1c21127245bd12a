"""Per-call conversation history for the LLM brains, in a provider-neutral form.

A `Conversation` is a flat list of parts: the caller's utterances, the sentences the brain
yielded, lines the flow said (greeting aside) that the caller heard, tool calls and their
results. `messages()` groups consecutive parts by role, so the history always starts with
the caller and alternates user/assistant, with each tool result right after its call.

At each new caller turn the sentences the brain yielded since the last turn are checked
against `Turn.heard` (in order): those the caller never heard (barge-in) are dropped, and
flow lines heard after the brain's last reply are kept as assistant text. A tool call that
got no result (interrupted, or taken over by the flow like `end_call`) is closed with a
"no result" answer so the history stays valid. A turn that continues the last one
(`Turn.joins`: the caller went on before hearing its reply) replaces it and that reply.
`respond` after `tool_result`, for the same caller words, continues instead of starting a
new turn.

`Conversations` keys them by call id, forgets a call on request and drops the least
recently used beyond `max_calls`. Pure data; touches nothing.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from engine.ports import ToolCall, ToolOutcome, Turn

log = logging.getLogger("dialflow.brain.llm")

#: What a tool call that never got its outcome answers, so the model knows.
NO_RESULT: dict[str, Any] = {
    "ok": False,
    "error": {
        "code": "no_result",
        "message": "No result came back: the caller spoke first or the call flow took over. "
        "The outcome is unknown.",
    },
}
SILENCE = "(the caller said nothing)"


@dataclass(frozen=True)
class Utterance:
    """The caller's words."""

    text: str


@dataclass(eq=False)
class Said:
    """A sentence the brain yielded; `heard` is None until checked against `Turn.heard`."""

    text: str
    heard: bool | None = None


@dataclass(frozen=True)
class Spoken:
    """A line the call flow said (not the brain) that the caller heard."""

    text: str


@dataclass(frozen=True)
class ToolReturn:
    call_id: str
    name: str
    content: str  # JSON text
    is_error: bool = False


Part = Utterance | Said | Spoken | ToolCall | ToolReturn
TextPart = Utterance | Said | Spoken


def role_of(part: Part) -> str:
    return "user" if isinstance(part, Utterance | ToolReturn) else "assistant"


@dataclass(frozen=True)
class Message:
    """One user or assistant message: its parts in order."""

    role: str
    parts: tuple[Part, ...]

    @property
    def texts(self) -> list[str]:
        """Text runs: consecutive text parts joined (sentences with spaces, turns by line)."""
        runs: list[list[str]] = []
        previous: Part | None = None
        for part in self.parts:
            if isinstance(part, Utterance | Said | Spoken):
                if not isinstance(previous, Utterance | Said | Spoken):
                    runs.append([])
                runs[-1].append(part.text)
            previous = part
        joiner = "\n" if self.role == "user" else " "
        return [joiner.join(run) for run in runs]

    @property
    def tool_uses(self) -> list[ToolCall]:
        return [p for p in self.parts if isinstance(p, ToolCall)]

    @property
    def tool_returns(self) -> list[ToolReturn]:
        return [p for p in self.parts if isinstance(p, ToolReturn)]


def tool_result_json(outcome: ToolOutcome) -> tuple[str, bool]:
    """The outcome as the JSON the model reads, and whether it is an error."""
    result = outcome.result
    if result is None and outcome.ok:
        result = {"ok": True, "data": None}
    elif result is None:
        message = outcome.error or "the tool failed"
        result = {"ok": False, "error": {"code": "internal_error", "message": message}}
    failed = not outcome.ok or (isinstance(result, dict) and result.get("ok") is False)
    text = json.dumps(result, ensure_ascii=False, separators=(",", ":"), default=str)
    return text, failed


class Conversation:
    """One call's history. Not thread-safe; the engine drives one turn of a call at a time."""

    def __init__(self, call_id: str, max_turns: int = 40) -> None:
        self.call_id = call_id
        self.max_turns = max_turns
        self.parts: list[Part] = []
        self.knowledge = ""  # retrieved for the current caller turn
        self.last_text: str | None = None
        self._heard_seen = 0
        self._unchecked: list[Said] = []
        self._pending: ToolCall | None = None
        self._after_tool = False

    # --- turns -------------------------------------------------------------------------

    def continues(self, turn: Turn) -> bool:
        """Is this `respond` the continuation after a tool result (same caller words)?"""
        return self._after_tool and turn.text == self.last_text

    def begin(self, turn: Turn) -> bool:
        """Start answering `turn`; True when it continues after a tool result."""
        if self.continues(turn):
            self._after_tool = False
            return True
        self._after_tool = False
        if turn.joins:
            self._retract(turn.joins)
        flow_lines = self._check_heard(turn.heard)
        self._close_pending()
        if self.parts:  # lines before the caller's first words (the greeting) are left out
            self.parts.extend(Spoken(line) for line in flow_lines)
        self.last_text = turn.text
        self.parts.append(Utterance(turn.text.strip() or SILENCE))
        self._trim()
        return False

    def said(self, text: str) -> None:
        """The brain yielded this sentence."""
        part = Said(text)
        self.parts.append(part)
        self._unchecked.append(part)

    def tool_call(self, call: ToolCall) -> None:
        """The brain yielded this tool call (its id must be set)."""
        self._close_pending()
        self._pending = call
        self.parts.append(call)

    def tool_result(self, call: ToolCall, outcome: ToolOutcome) -> bool:
        """Record the outcome of the pending tool call; False when no call matches."""
        pending = self._pending
        if pending is None or (call.id and call.id != pending.id) or (
            not call.id and call.name != pending.name
        ):
            log.warning("call %s: result for tool %s (%s) matches no pending tool call",
                        self.call_id, call.name, call.id or "no id")
            return False
        content, failed = tool_result_json(outcome)
        self.parts.append(ToolReturn(pending.id, pending.name, content, failed))
        self._pending = None
        self._after_tool = True
        return True

    @property
    def pending_tool(self) -> ToolCall | None:
        return self._pending

    # --- views -------------------------------------------------------------------------

    def messages(self) -> list[Message]:
        return list(group(self.parts))

    # --- internals ---------------------------------------------------------------------

    def _retract(self, joins: str) -> bool:
        """The caller went on with their turn `joins` before hearing its reply: drop that
        turn and the reply to it (a tool call that never ran included); the new turn
        carries its words. False (nothing dropped) when it is not the last turn, or a
        tool result or a heard flow line follows it."""
        for at in range(len(self.parts) - 1, -1, -1):
            part = self.parts[at]
            if isinstance(part, Utterance):
                if part.text != (joins.strip() or SILENCE):
                    return False
                del self.parts[at:]
                self._unchecked = []
                self._pending = None
                return True
            if not isinstance(part, (Said, ToolCall)):
                return False
        return False

    def _check_heard(self, heard: Sequence[str]) -> list[str]:
        """Drop the brain's unheard sentences; return flow lines heard after its last one."""
        if len(heard) < self._heard_seen:
            self._heard_seen = 0  # a new list; do not index past it
        new = list(heard[self._heard_seen :])
        self._heard_seen = len(heard)
        cursor = 0
        for part in self._unchecked:
            try:
                at = new.index(part.text, cursor)
            except ValueError:
                part.heard = False
                continue
            part.heard = True
            cursor = at + 1
        dropped = sum(1 for p in self._unchecked if p.heard is False)
        if dropped:
            log.info("call %s: %d unheard sentence(s) left out of the history",
                     self.call_id, dropped)
            self.parts = [p for p in self.parts if not (isinstance(p, Said) and p.heard is False)]
        self._unchecked = []
        return new[cursor:]

    def _close_pending(self) -> None:
        pending = self._pending
        if pending is None:
            return
        content = json.dumps(NO_RESULT, separators=(",", ":"))
        self.parts.append(ToolReturn(pending.id, pending.name, content, True))
        self._pending = None

    def _trim(self) -> None:
        """Keep the last `max_turns` caller turns (cut only before an utterance)."""
        starts = [i for i, p in enumerate(self.parts)
                  if isinstance(p, Utterance) and (i == 0 or role_of(self.parts[i - 1]) != "user")]
        if len(starts) > self.max_turns:
            del self.parts[: starts[-self.max_turns]]


def group(parts: Iterable[Part]) -> Iterator[Message]:
    """Consecutive parts of one role as a message; tool results first in a user message."""
    role: str | None = None
    run: list[Part] = []
    for part in parts:
        if role_of(part) != role and run:
            yield _message(role, run)
            run = []
        role = role_of(part)
        run.append(part)
    if run:
        yield _message(role, run)


def _message(role: str | None, run: list[Part]) -> Message:
    if role == "user":  # providers want tool results before anything else in the message
        run = [p for p in run if isinstance(p, ToolReturn)] + [
            p for p in run if not isinstance(p, ToolReturn)]
    return Message(role or "user", tuple(run))


class Conversations:
    """Conversations by call id, least recently used dropped beyond `max_calls`."""

    def __init__(self, max_calls: int = 1000, max_turns: int = 40) -> None:
        self.max_calls = max_calls
        self.max_turns = max_turns
        self._calls: OrderedDict[str, Conversation] = OrderedDict()

    def get(self, call_id: str) -> Conversation:
        conversation = self._calls.get(call_id)
        if conversation is None:
            conversation = self._calls[call_id] = Conversation(call_id, self.max_turns)
            while len(self._calls) > self.max_calls:
                self._calls.popitem(last=False)
        self._calls.move_to_end(call_id)
        return conversation

    def peek(self, call_id: str) -> Conversation | None:
        """The call's conversation if there is one (never creates it)."""
        return self._calls.get(call_id)

    def forget(self, call_id: str) -> None:
        self._calls.pop(call_id, None)

    @property
    def entries(self) -> OrderedDict[str, Conversation]:
        """The conversations by call id (a speculative turn restores its entry if dropped)."""
        return self._calls

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._calls

    def __len__(self) -> int:
        return len(self._calls)
