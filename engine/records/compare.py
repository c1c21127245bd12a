"""Compare a recorded trace with a replayed one: the canonical line of each entry, the first
divergence, and the two traces side by side around it.

A canonical line is an entry without its time (recorded times are wall-clock, replayed
ones virtual): event, states, note, effects and data, with data in sorted-key JSON so the
comparison is byte for byte.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from engine.records.replay import ReplayResult
from engine.trace import TraceEntry

CONTEXT = 3
COLUMN = 58


def canonical(entry: TraceEntry) -> str:
    arrow = f"{entry.before} -> {entry.after}" if entry.before != entry.after else entry.after
    note = f" ({entry.note})" if entry.note else ""
    effects = f" [{', '.join(entry.effects)}]" if entry.effects else ""
    data = json.dumps(entry.data, sort_keys=True, ensure_ascii=False, default=str)
    return f"{entry.event} {arrow}{note}{effects} {data}"


def canonical_trace(entries: list[TraceEntry]) -> str:
    return "\n".join(canonical(e) for e in entries)


@dataclass
class Divergence:
    index: int  # first entry that differs (or the length of the shorter trace)
    recorded: TraceEntry | None
    replayed: TraceEntry | None
    line: int  # the flow line responsible, on the replayed side

    def summary(self, flow_path: str) -> str:
        entry = self.replayed or self.recorded
        assert entry is not None
        want = _short(self.recorded) if self.recorded else "(the recorded call ended)"
        got = _short(self.replayed) if self.replayed else "(the replay ended)"
        return (f"entry {self.index + 1} at {entry.at:.3f}s, state {entry.before or '-'}, "
                f"event {entry.event}: recorded {want}; now {got}  "
                f"[{flow_path}:{self.line}]")


def first_divergence(result: ReplayResult) -> Divergence | None:
    recorded, replayed = result.log.entries, result.trace.entries
    for index in range(max(len(recorded), len(replayed))):
        old = recorded[index] if index < len(recorded) else None
        new = replayed[index] if index < len(replayed) else None
        if old is None or new is None or canonical(old) != canonical(new):
            line = result.lines[index] if new is not None else (
                result.lines[-1] if result.lines else 0)
            return Divergence(index, old, new, line)
    return None


def _short(entry: TraceEntry) -> str:
    arrow = f"{entry.before} -> {entry.after}" if entry.before != entry.after else entry.after
    effects = f" [{', '.join(entry.effects)}]" if entry.effects else ""
    note = f" ({entry.note})" if entry.note else ""
    return f"{arrow}{note}{effects}"


def _cell(entry: TraceEntry | None) -> str:
    if entry is None:
        return ""
    text = f"{entry.at:7.3f} {entry.event} {_short(entry)}"
    return text if len(text) <= COLUMN else text[:COLUMN - 1] + "…"


def side_by_side(result: ReplayResult, divergence: Divergence) -> str:
    """A few entries before the divergence and after it, recorded left, replayed right."""
    recorded, replayed = result.log.entries, result.trace.entries
    start = max(0, divergence.index - CONTEXT)
    stop = divergence.index + CONTEXT + 1
    rows = [f"     {'recorded':<{COLUMN}} | replayed"]
    for index in range(start, min(stop, max(len(recorded), len(replayed)))):
        old = recorded[index] if index < len(recorded) else None
        new = replayed[index] if index < len(replayed) else None
        same = old is not None and new is not None and canonical(old) == canonical(new)
        mark = "   " if same else ">> "
        rows.append(f"{mark}{index + 1:>2} {_cell(old):<{COLUMN}} | {_cell(new)}")
    old, new = divergence.recorded, divergence.replayed
    if old is not None and new is not None and old.data != new.data:
        rows.append(f"   data recorded: {json.dumps(old.data, default=str)}")
        rows.append(f"   data replayed: {json.dumps(new.data, default=str)}")
    return "\n".join(rows)
