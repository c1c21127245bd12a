"""A turn the caller went on with (`Turn.joins`): the rules brain answers the joined words
from where it stood before the first part, exactly as if they had come as one turn.

The clock is Tuesday 1 December 2026, 09:00 in New York.
"""

from __future__ import annotations

import asyncio

import pytest
from brain_testkit import CALLER

from adapters.local.brain import RulesBrain
from engine.ports import Sentence, ToolCall, Turn

CONFIRM = ("Book a cleaning for Ana Lopez tomorrow at 9",)
CASES = [  # (turns before, the first part, what the caller went on with)
    (CONFIRM, "Yes.", "please."),
    (CONFIRM, "No.", "Actually yes, that's fine."),
    (("I'd like to book a cleaning",), "Friday.", "At 10 in the morning."),
    (("I'd like to book a cleaning",), "Friday", "no wait, Thursday."),
    ((), "I want to cancel", "my appointment on Friday."),
    ((), "Um.", "What time do you close on Thursday?"),
]


def _ask(brain: RulesBrain, call_id: str, text: str, joins: str = "",
         heard: tuple[str, ...] = ()) -> list[Sentence | ToolCall]:
    async def collect() -> list[Sentence | ToolCall]:
        turn = Turn(call_id, CALLER, text, heard, joins=joins)
        return [item async for item in brain.respond(turn)]

    return asyncio.run(collect())


def _shape(items: list[Sentence | ToolCall]) -> list[object]:
    """The reply without tool call ids (each call gets a new one)."""
    return [i.text if isinstance(i, Sentence) else (i.name, i.args) for i in items]


def _said(items: list[Sentence | ToolCall]) -> tuple[str, ...]:
    return tuple(i.text for i in items if isinstance(i, Sentence))


def _play(brain: RulesBrain, call_id: str, before: tuple[str, ...]) -> tuple[str, ...]:
    heard: tuple[str, ...] = ()
    for text in before:
        heard += _said(_ask(brain, call_id, text, heard=heard))
    return heard


@pytest.mark.parametrize(("before", "first", "rest"), CASES)
def test_a_joined_turn_is_answered_as_one_turn(brain: RulesBrain, before: tuple[str, ...],
                                               first: str, rest: str) -> None:
    heard = _play(brain, "CA-joined", before)
    _ask(brain, "CA-joined", first, heard=heard)  # its reply is cut before a word is heard
    joined = _ask(brain, "CA-joined", f"{first} {rest}", joins=first, heard=heard)

    heard_once = _play(brain, "CA-once", before)
    once = _ask(brain, "CA-once", f"{first} {rest}", heard=heard_once)
    assert _shape(joined) == _shape(once)


def test_a_join_onto_words_the_brain_did_not_answer_last_changes_nothing(
    brain: RulesBrain,
) -> None:
    heard = _play(brain, "CA-j", CONFIRM)
    _ask(brain, "CA-j", "Yes.", heard=heard)
    # not the last turn answered ("No." never was): answered from where the brain stands
    after = _ask(brain, "CA-j", "No. please.", joins="No.", heard=heard)
    plain = _play(brain, "CA-p", CONFIRM)
    _ask(brain, "CA-p", "Yes.", heard=plain)
    assert _shape(after) == _shape(_ask(brain, "CA-p", "No. please.", heard=plain))
