"""Checks for `warm_transfer`: its argument, and the state that waits for Twilio's report.

`{warm_transfer: {whisper: prompt, ring: 25s}}`: the whisper is a prompt from `prompts:`,
`ring` is how long the human's phone rings (Twilio's `<Dial timeout>`: 5 to 600 s). The
state that runs it must have a timer that fires only after the ringing is over and Twilio
had time to report (`RING_MARGIN`): Twilio's report is the normal way out, the timer the
one for a report that never comes. Pure functions on parsed data; imports none of ours but
the flow language.
"""

from __future__ import annotations

from typing import Any, Protocol

from flows.durations import parse_duration
from flows.errors import FlowError, did_you_mean
from flows.model import Flow

KEYS = ("whisper", "ring")
RING_LIMITS = (5.0, 600.0)  # Twilio's <Dial timeout> bounds, seconds
RING_MARGIN = 15.0  # the REST update, the Dial's report and the caller's stream coming back
WHISPER_SECONDS = 30.0  # a whisper of at most 400 characters, said to the human, and the join
EXAMPLE = "{warm_transfer: {whisper: transfer_whisper, ring: 25s}}"


class _Names(Protocol):
    prompts: dict[str, str]


def check_warm_transfer(arg: Any, names: _Names) -> tuple[str, str] | None:
    """(problem, fix) for a bad `warm_transfer` argument, or None."""
    if not isinstance(arg, dict) or "whisper" not in arg:
        return "needs a `whisper` prompt the human hears first", f"write e.g. `{EXAMPLE}`"
    unknown = [k for k in arg if k not in KEYS]
    if unknown:
        return f"unknown key '{unknown[0]}'", did_you_mean(str(unknown[0]), KEYS)
    if arg["whisper"] not in names.prompts:
        return (f"missing prompt '{arg['whisper']}'",
                f"add `{arg['whisper']}: \"…\"` under prompts:, or "
                + did_you_mean(str(arg["whisper"]), names.prompts))
    if "ring" in arg:
        try:
            seconds = parse_duration(arg["ring"])
        except ValueError as exc:
            return str(exc), "write a duration such as 25s"
        low, high = RING_LIMITS
        if not low <= seconds <= high:
            return (f"ring {arg['ring']} is not between {low:g} and {high:g} s (Twilio's "
                    "dial timeout)", "write e.g. `ring: 25s`")
    return None


def ring_seconds(arg: Any) -> float:
    return parse_duration((arg or {}).get("ring", "25s"))


def rings(flow: Flow, name: str) -> list[Any]:
    """The `warm_transfer` steps state `name` runs (on entry, or staying on an event)."""
    state = flow.states[name]
    own = [t for t in flow.transitions_from(name) if not t.from_any and t.dest is None]
    return [s for s in (*state.enter, *(s for t in own for s in t.actions))
            if s.name == "warm_transfer"]


def check_answered_stays(flow: Flow) -> list[FlowError]:
    """`transfer.answered` is the human picking up, before the caller is moved to them: a
    state that rings must not leave (or re-enter) on it, or the human is hung up on."""
    out = []
    for name in flow.states:
        if not rings(flow, name):
            continue
        for t in flow.transitions_from(name):
            if t.event == "transfer.answered" and t.dest is not None and not t.from_any:
                out.append(FlowError(
                    flow.path, t.line,
                    f"'{name}' goes to '{t.dest}' on transfer.answered, but then the human "
                    "has only picked up and hears the whisper: leaving the state hangs up on "
                    "them and the caller is never connected",
                    f"go on `transfer.completed: {t.dest}` (the caller is with the human), "
                    "and keep `transfer.answered` without `to:` (or drop it)"))
    return out


def check_whisper_covered(flow: Flow) -> list[FlowError]:
    """A warning when the human could pick up at the end of the ringing and then be cut off
    by the state's timer while they hear the whisper: `transfer.answered` should restart it
    (or the timer be long enough for both)."""
    out = []
    for name, state in flow.states.items():
        steps = rings(flow, name)
        if not steps or state.timeout is None:
            continue
        answered = [t for t in flow.transitions_from(name) if t.event == "transfer.answered"]
        restarts = any(s.name == "restart_timer" for t in answered for s in t.actions)
        need = ring_seconds(steps[0].arg) + RING_MARGIN + WHISPER_SECONDS
        if not restarts and state.timeout.after < need:
            out.append(FlowError(
                flow.path, state.timeout.line,
                f"'{name}' could give up while the human hears the whisper: they may pick up "
                f"after {ring_seconds(steps[0].arg):g}s and the whisper and bridge take up to "
                f"{WHISPER_SECONDS:g}s more, but the timer fires after {state.timeout.after:g}s",
                "restart the timer when the human picks up: `transfer.answered: {do: "
                f"[restart_timer]}}` (or make the timeout at least {need:g}s)",
                severity="warning"))
    return out


def check_ring_covered(flow: Flow) -> list[FlowError]:
    """The timer of a state that runs warm_transfer must outlast the ringing."""
    out = []
    for name, state in flow.states.items():
        own = [t for t in flow.transitions_from(name) if not t.from_any and t.dest is None]
        steps = [*state.enter, *(s for t in own for s in t.actions)]
        for step in steps:
            if step.name != "warm_transfer" or state.timeout is None:
                continue  # no timeout at all is lint_graph's error already
            ring = ring_seconds(step.arg)
            if state.timeout.after < ring + RING_MARGIN:
                out.append(FlowError(
                    flow.path, state.timeout.line,
                    f"'{name}' rings for {ring:g}s but its timer fires after "
                    f"{state.timeout.after:g}s: it would cut off a human about to answer",
                    f"make the timeout at least {ring + RING_MARGIN:g}s (the ring time plus "
                    f"{RING_MARGIN:g}s for Twilio's report), e.g. `timeout: {{after: "
                    f"{int(ring + RING_MARGIN + 5)}s, event: timer.transfer}}`"))
    return out
