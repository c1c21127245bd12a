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
from flows.durations import parse_duration

if TYPE_CHECKING:
    from engine.call import Call
    from engine.scripts.format import Script, ScriptStep


@dataclass
class Window:
    entries: list[TraceEntry]
    records: list[Record]
    call: Call
    speculation_from: int = 0  # where this step begins in the speculator's log

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
    """`true`/`false`: was anything dropped? An event name (or list): was that dropped?"""
    dropped = [e for e in w.entries if e.note and not e.handled]
    if isinstance(want, bool):
        return [e.note for e in w.entries if e.note], bool(dropped) == want
    names = [f"{e.event} ({e.note})" for e in dropped]
    return names or "nothing ignored", all(any(e.event == name for e in dropped)
                                           for name in _as_list(want))


def _ticket(want: Any, w: Window) -> tuple[Any, bool]:
    """`true`/`false`, or the fields a ticket must contain: `{reason: …, summary: …}` (a
    list of texts: each of them)."""
    tickets = w.records_of("ticket")
    if isinstance(want, bool):
        return bool(tickets), bool(tickets) == want
    return tickets or "no ticket", any(_contains(t, want) for t in tickets)


def _contains(got: dict[str, Any], want: dict[str, Any]) -> bool:
    """Every wanted field is there: text by substring (a list of texts: each one), anything
    else by equality."""
    def holds(key: str, value: Any) -> bool:
        if isinstance(value, str):
            return value in str(got.get(key, ""))
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return all(v in str(got.get(key, "")) for v in value)
        return got.get(key) == value
    return all(holds(k, v) for k, v in want.items())


def _tickets(want: Any, w: Window) -> tuple[Any, bool]:
    count = len(w.records_of("ticket"))
    return count, count == want


def _brain(want: Any, w: Window) -> tuple[Any, bool]:
    """What the brain was given: `text` (substring of the caller's words) and `heard`
    (exactly the sentences the caller heard so far)."""
    asked = w.records_of("asked")
    return asked or "the brain was not asked", any(
        ("text" not in want or str(want["text"]) in r["text"]) and
        ("heard" not in want or r["heard"] == _as_list(want["heard"] or [])) for r in asked)


def _timer(want: Any, w: Window) -> tuple[Any, bool]:
    """Which state timer is armed now (`none` for none), optionally `{event, in: 8s}`."""
    armed = w.call.armed_timer()
    got = f"{armed[0]} in {armed[1]:g}s" if armed else "none"
    if want in (None, False, "none"):
        return got, armed is None
    if isinstance(want, dict):
        left = parse_duration(want["in"]) if "in" in want else None
        return got, armed is not None and armed[0] == want.get("event") and (
            left is None or abs(armed[1] - left) < 1e-3)
    return got, armed is not None and armed[0] == want


def _states(want: Any, w: Window) -> tuple[Any, bool]:
    visited: list[str] = []
    for e in w.entries:
        if e.handled and (e.after != e.before or e.note == "re-entered" or not e.before):
            visited.append(e.after)
    return visited, visited == _as_list(want)


def _audio(want: Any, w: Window) -> tuple[Any, bool]:
    """What the barge-in gate did to the agent's audio, in order (pause, clear, resume)."""
    got = w.records_of("audio")
    return got, got == _as_list(want)


def _speculation(want: Any, w: Window) -> tuple[Any, bool]:
    """What the call's speculator did in the step, in order (started, skipped, dropped,
    used)."""
    got = [what.split(" ")[0] for _, what in w.call.speculation.log[w.speculation_from:]]
    return got, got == _as_list(want)


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
    "ticket": _ticket,
    "tickets": _tickets,
    "brain": _brain,
    "timer": _timer,
    "counters": _counters,
    "ignored": _ignored,
    "states": _states,
    "audio": _audio,
    "speculation": _speculation,
}
