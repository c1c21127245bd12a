"""`Finding`: one problem `dialflow check` found, with its line, fix and witness.

A `Witness` is the shortest list of moves that reaches the problem, then what a correct
flow would do there (`expect`, checked after waiting `wait` seconds when set). Turned into
an event script by `flows/explore/script.py`, it fails under `dialflow test` for as long as
the problem is there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flows.errors import FlowError
from flows.explore.config import Move

ERROR, WARNING = "error", "warning"


@dataclass(frozen=True)
class Witness:
    moves: tuple[Move, ...]
    expect: dict[str, Any]
    wait: float | None = None  # seconds to wait after the last move before checking
    repeat: tuple[Move, ...] = ()  # a cycle appended `times` times
    times: int = 0
    span: float | None = None  # or: repeat the cycle until the call is this many seconds old
    long_gaps: bool = False  # space the caller's moves as far apart as the timers allow

    def labels(self) -> list[str]:
        moves = [*self.moves, *(list(self.repeat) * min(self.times, 2))]
        out = [m.stimulus.label() for m in moves if not m.stimulus.event.startswith("reply.")]
        if self.times > 2:
            out.append(f"… the last {len(self.repeat)} again, {self.times} times in all")
        if self.span:
            out.append(f"… the last {len(self.repeat)} again and again for {self.span:g}s")
        if self.wait:
            out.append(f"then nothing for {self.wait:g}s")
        return out


@dataclass(frozen=True)
class Finding:
    kind: str  # stall, lost-input, loop, lost-mark, retry, unbounded, dead, clash, …
    severity: str
    path: str
    line: int
    message: str
    fix: str
    witness: Witness | None = field(default=None, compare=False)

    def as_error(self) -> FlowError:
        return FlowError(self.path, self.line, self.message, self.fix, self.severity)

    def __str__(self) -> str:
        text = str(self.as_error())
        if self.witness is not None:
            text += "\n    witness: " + " -> ".join(self.witness.labels())
        return text

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "severity": self.severity, "file": self.path,
                "line": self.line, "message": self.message, "fix": self.fix,
                "witness": self.witness.labels() if self.witness else None}
