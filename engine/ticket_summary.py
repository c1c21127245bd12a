"""The summary a taken message carries: who called, any name given, why, and the whole
conversation the caller had with the agent, bounded to what the ticket can hold.

Pure text from the call's data; the runner passes it to the escalation tool.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

MAX_SUMMARY = 20_000  # the escalation tool's summary limit: a 20-minute call's words
NAME_VARS = ("caller_name", "name")


def ticket_summary(reason: str, caller: str, variables: Mapping[str, Any],
                   conversation: Sequence[tuple[str, str]], limit: int = MAX_SUMMARY) -> str:
    """"Caller: … Name: … Reason: … Conversation: caller: … / agent: …"; when too long,
    the oldest turns go first (the header always stays)."""
    head = [f"Reason: {reason}."]
    name = next((str(variables[v]) for v in NAME_VARS if variables.get(v)), "")
    if name:
        head.insert(0, f"Name given: {name}.")
    if caller:
        head.insert(0, f"Caller: {caller}.")
    facts = [f"{k}: {v}" for k, v in variables.items() if v not in ("", None, False)
             and k not in NAME_VARS]
    if facts:
        head.append("Noted: " + "; ".join(facts) + ".")
    header = " ".join(head)
    turns = [f"{who}: {' '.join(text.split())}" for who, text in conversation if text.strip()]
    if not turns:
        return f"{header} No words from the caller."[:limit]
    body = " / ".join(turns)
    room = limit - len(header) - len(" Conversation: ")
    if len(body) > room:
        body = "… " + body[len(body) - max(room - 2, 0):]
    return f"{header} Conversation: {body}"[:limit]
