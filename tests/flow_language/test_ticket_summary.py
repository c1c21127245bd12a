"""A ticket's summary: who, the name given, why, what was noted, the conversation; within
the escalation tool's limit the oldest turns go first and the header stays."""

from __future__ import annotations

import typing

from engine.ticket_summary import MAX_SUMMARY, ticket_summary
from tools.escalation import Summary


def test_the_header_stays_and_the_oldest_turns_go() -> None:
    turns = [("caller", f"turn number {i} " + "x" * 40) for i in range(400)]
    text = ticket_summary("the caller left a message", "+15550001111",
                          {"caller_name": "Jane", "member_id": "12045", "flag": False}, turns)
    assert len(text) <= MAX_SUMMARY
    assert text.startswith("Caller: +15550001111. Name given: Jane. Reason: the caller left "
                           "a message. Noted: member_id: 12045. Conversation: … ")
    assert "turn number 399" in text and "turn number 0 " not in text


def test_a_long_call_keeps_its_whole_conversation() -> None:
    # 20 minutes of phone talk, both sides (~150 words a minute): every turn is in the ticket.
    turns = [("caller" if i % 2 else "agent", f"turn {i}: " + "word " * 30) for i in range(100)]
    assert sum(len(t) for _, t in turns) > 15_000
    text = ticket_summary("the caller left a message", "+15550001111", {}, turns)
    assert "…" not in text
    assert all(f"turn {i}:" in text for i in range(100))


def test_the_escalation_tool_takes_a_summary_of_the_full_length() -> None:
    (rules,) = typing.get_args(Summary)[1:]
    assert rules["maxLength"] >= MAX_SUMMARY


def test_no_words_is_said_plainly() -> None:
    assert ticket_summary("the voice failed", "", {}, [("agent", "  ")]) == \
        "Reason: the voice failed. No words from the caller."
