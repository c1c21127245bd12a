"""The `expect:` keys of an event script and how each is checked against one step's window.

A window is everything that happened since the previous step: trace entries (events, state
changes, effects) and what the fakes were asked. Each mismatch is reported with the line of
the expectation, what was expected and what actually happened.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.scripts.fakes import Record
from engine.trace import TraceEntry

if TYPE_CHECKING:
    from engine.call import Call
    from engine.scripts.format import Script, ScriptStep


@dataclass
class Window:
    entries: list[TraceEntry]
    records: list[Record]
    call: Call

    def effects(self) -> list[str]:
        return [e for entry in self.entries for e in entry.effects]

    def kinds(self) -> list[str]:
        return [e.split(" ")[0].split("=")[0] for e in self.effects()]

    def said(self) -> list[str]:
        return [e.split(" ", 1)[1] for e in self.effects() if e.startswith("say ")]

    def records_of(self, kind: str) -> list[Any]:
        return [r.detail for r in self.records if r.kind == kind]


def check_step(script: Script, step: ScriptStep, w: Window) -> list[str]:
    out = []
    for key, want in step.expect.items():
        got, ok = _CHECKS[key](want, w)
        if not ok:
            line = step.expect_lines.get(key, step.line)
            out.append(f"{script.path}:{line}: step '{step.label()}': expected {key} "
                       f"{want!r}, got {got!r}")
    return out


def _as_list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list) else [value]


def _state(want: Any, w: Window) -> tuple[Any, bool]:
    return w.call.state, w.call.state == want


def _said(want: Any, w: Window) -> tuple[Any, bool]:
    return w.said(), w.said() == _as_list(want)


def _reply(want: Any, w: Window) -> tuple[Any, bool]:
    replies = w.records_of("reply")
    return replies, any(str(want) in r for r in replies)


def _effect(want: Any, w: Window) -> tuple[Any, bool]:
    kinds = w.kinds()
    return w.effects(), all(k in kinds for k in _as_list(want))


def _no_effect(want: Any, w: Window) -> tuple[Any, bool]:
    kinds = w.kinds()
    return w.effects(), not any(k in kinds for k in _as_list(want))


def _tool(want: Any, w: Window) -> tuple[Any, bool]:
    calls = w.records_of("tool")
    if isinstance(want, str):
        return calls, any(c["name"] == want for c in calls)
    args = dict(want.get("args") or {})
    return calls, any(c["name"] == want.get("name") and
                      all(c["args"].get(k) == v for k, v in args.items()) for c in calls)


Check = Callable[[Any, Window], tuple[Any, bool]]


def _flag(kind: str, effect: str | None = None) -> Check:
    """A yes/no expectation: did the fakes record `kind` (or the trace show `effect`)?"""

    def check(want: Any, w: Window) -> tuple[Any, bool]:
        happened = bool(w.records_of(kind)) or (effect is not None and effect in w.kinds())
        return happened, happened == bool(want)

    return check


def _ended(want: Any, w: Window) -> tuple[Any, bool]:
    return w.call.ended, w.call.ended == bool(want)


def _counters(want: Any, w: Window) -> tuple[Any, bool]:
    got = {k: w.call.counters.get(k) for k in want}
    return got, got == dict(want)


def _ignored(want: Any, w: Window) -> tuple[Any, bool]:
    notes = [e.note for e in w.entries if e.note]
    ignored = any(e.note and not e.handled for e in w.entries)
    return notes, ignored == bool(want)


def _states(want: Any, w: Window) -> tuple[Any, bool]:
    visited: list[str] = []
    for e in w.entries:
        if e.handled and (e.after != e.before or e.note == "re-entered" or not e.before):
            visited.append(e.after)
    return visited, visited == _as_list(want)


_CHECKS = {
    "state": _state,
    "said": _said,
    "reply": _reply,
    "effect": _effect,
    "effects": _effect,
    "no_effect": _no_effect,
    "tool": _tool,
    "transfer": _flag("transfer", "transfer"),
    "ended": _ended,
    "hung_up": _flag("hung_up"),
    "ticket": _flag("ticket"),
    "counters": _counters,
    "ignored": _ignored,
    "states": _states,
}
