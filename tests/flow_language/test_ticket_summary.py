"""A ticket's summary: who, the name given, why, what was noted, the conversation; within
the escalation tool's limit the oldest turns go first and the header stays."""

from __future__ import annotations

from engine.ticket_summary import MAX_SUMMARY, ticket_summary


def test_the_header_stays_and_the_oldest_turns_go() -> None:
    turns = [("caller", f"turn number {i} " + "x" * 40) for i in range(200)]
    text = ticket_summary("the caller left a message", "+15550001111",
                          {"caller_name": "Jane", "member_id": "12045", "flag": False}, turns)
    assert len(text) <= MAX_SUMMARY
    assert text.startswith("Caller: +15550001111. Name given: Jane. Reason: the caller left "
                           "a message. Noted: member_id: 12045. Conversation: … ")
    assert "turn number 199" in text and "turn number 0 " not in text


def test_no_words_is_said_plainly() -> None:
    assert ticket_summary("the voice failed", "", {}, [("agent", "  ")]) == \
        "Reason: the voice failed. No words from the caller."
