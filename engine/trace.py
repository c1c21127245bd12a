"""`Trace`: the record of a call, one entry per event, for tests, the demo and logs.

An entry holds the virtual or real time, the event, the state before and after, and the
effects the event produced. Formatting is stable so traces can be compared run to run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class TraceEntry:
    at: float
    event: str
    data: dict[str, Any]
    before: str
    after: str
    effects: list[str] = field(default_factory=list)
    note: str = ""
    handled: bool = False

    def format(self) -> str:
        arrow = f"{self.before} -> {self.after}" if self.before != self.after else self.after
        detail = ", ".join(self.effects)
        note = f" ({self.note})" if self.note else ""
        text = f"{self.at:8.3f}  {self.event:<22} {arrow}{note}"
        return f"{text}  [{detail}]" if detail else text


class Trace:
    def __init__(self) -> None:
        self.entries: list[TraceEntry] = []

    def add(self, entry: TraceEntry) -> None:
        self.entries.append(entry)

    def states(self) -> list[str]:
        """Every state the call was in, in order, without repeats in a row."""
        out: list[str] = []
        for entry in self.entries:
            for state in (entry.before, entry.after):
                if state and (not out or out[-1] != state):
                    out.append(state)
        return out

    def edges(self) -> list[tuple[str, str, str]]:
        """(source, event, dest) for every event that was handled by the machine."""
        return [(e.before, e.event, e.after) for e in self.entries if e.handled and e.before]

    def format(self) -> str:
        return "\n".join(e.format() for e in self.entries)
