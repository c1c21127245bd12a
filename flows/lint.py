"""Graph checks on a parsed flow: reachability, dead ends, waiting states and their timers."""

from __future__ import annotations

from flows import outbound_checks
from flows.errors import FlowError
from flows.model import Flow
from flows.transfer_checks import (
    check_answered_stays,
    check_ring_covered,
    check_whisper_covered,
)


def lint_graph(flow: Flow, complete: bool = True) -> list[FlowError]:
    """Problems that need the whole graph: each names the state's line and a fix.

    `complete=False` (the file already has errors, so some states or transitions were left
    out) skips them: a typo in one `to:` must give one error, not a cascade of follow-on
    "unreachable" or "no way out" errors with wrong fixes."""
    out: list[FlowError] = []
    if not complete:
        return out
    out += outbound_checks.check_answered_by_guards(flow)
    reachable = _reachable(flow)
    for name, state in flow.states.items():
        leaving = [t for t in flow.transitions_from(name) if t.target != name]
        own_events = {t.event for t in flow.transitions_from(name)}
        if name not in reachable:
            out.append(FlowError(flow.path, state.line,
                                 f"state '{name}' is unreachable from '{flow.initial}'",
                                 f"add a transition `to: {name}` or remove the state"))
        for event in sorted(own_events & set(state.ignore)):
            out.append(FlowError(flow.path, state.line,
                                 f"state '{name}' both handles and ignores {event}",
                                 f"remove {event} from its `ignore:` or from its `on:`"))
        if state.final:
            if flow.transitions_from(name) or state.timeout:
                out.append(FlowError(flow.path, state.line,
                                     f"final state '{name}' has transitions or a timeout",
                                     "a final state ends the call: remove `on:` and `timeout:`"))
            continue
        if not leaving:
            out.append(FlowError(flow.path, state.line,
                                 f"state '{name}' is not final but has no way out",
                                 "add a transition to another state, or `final: true`"))
        if state.timeout is None:
            out.append(FlowError(flow.path, state.line,
                                 f"state '{name}' waits for events but has no timeout",
                                 "add `timeout: {after: 10s, event: timer.<name>}` and handle it"))
        elif state.timeout.event not in own_events:
            out.append(FlowError(flow.path, state.timeout.line,
                                 f"state '{name}' raises {state.timeout.event} but does not "
                                 "handle it", f"add `{state.timeout.event}: <next state>` "
                                 "under its `on:`"))
    out += _results_handled(flow)
    out += check_ring_covered(flow)
    out += check_answered_stays(flow)
    out += check_whisper_covered(flow)
    if not any(s.final for s in flow.states.values()):
        out.append(FlowError(flow.path, 1, "the flow has no final state",
                             "add a state with `final: true`, e.g. `ended`"))
    return out


def _reachable(flow: Flow) -> set[str]:
    seen = {flow.initial}
    todo = [flow.initial]
    while todo:
        name = todo.pop()
        for t in flow.transitions_from(name):
            if t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    return seen


# A behaviour whose result comes back as events the state must handle.
_RESULTS = {"collect_digits": ("dtmf.collected", "dtmf.timeout"),
            "call_tool": ("tool.done", "tool.failed"),
            "warm_transfer": ("transfer.completed", "transfer.busy", "transfer.no_answer",
                              "transfer.failed")}


def _results_handled(flow: Flow) -> list[FlowError]:
    out = []
    for name, state in flow.states.items():
        own = [t for t in flow.transitions_from(name) if not t.from_any]
        steps = [*state.enter, *(s for t in own if t.dest is None for s in t.actions)]
        handled = {t.event for t in flow.transitions_from(name)}
        for step in steps:
            missing = [e for e in _RESULTS.get(step.name, ()) if e not in handled]
            if missing:
                out.append(FlowError(flow.path, step.line or state.line,
                                     f"'{name}' runs {step.name} but does not handle "
                                     f"{' or '.join(missing)}: the call would wait for nothing",
                                     f"add `{missing[0]}: <next state>` under its `on:`"))
    return out
