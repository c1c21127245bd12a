"""Findings that need no exploration: dead constructs and names that clash or do not exist.

Warnings: a handler for a timer the state never arms, a `call.started` handler outside the initial
state (only the initial state sees it), a transition after an unguarded one for the same event, a
`{tool: name}` guard naming no tool the flow can call. Errors: an unknown provider name, an
HTTP tool whose name clashes with a built-in tool or another HTTP tool.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from flows.explore.finding import ERROR, WARNING, Finding, Witness
from flows.explore.search import Graph
from flows.explore.step import Rules
from flows.model import Flow, TransitionSpec


def dead_constructs(flow: Flow, tools: frozenset[str] | None, rules: Rules | None = None,
                    graph: Graph | None = None) -> list[Finding]:
    out: list[Finding] = []
    seen: set[int] = set()

    def warn(kind: str, line: int, message: str, fix: str,
             witness: Witness | None = None) -> None:
        if line not in seen:
            seen.add(line)
            out.append(Finding(kind, WARNING, flow.path, line, message, fix, witness))

    for name, state in flow.states.items():
        own = [t for t in flow.transitions_from(name) if not t.from_any]
        for spec in own:
            if spec.event.startswith("timer.") and (
                    state.timeout is None or state.timeout.event != spec.event):
                arms = state.timeout.event if state.timeout else "no timer"
                warn("dead", spec.line, f"'{name}' handles {spec.event} but arms {arms}: "
                     "this handler never runs", f"handle {arms} instead, or change the "
                     f"state's `timeout: {{event: {spec.event}}}`")
        for group in (own, [t for t in flow.transitions_from(name) if t.from_any]):
            for spec in _shadowed(group):
                warn("shadowed", spec.line, f"this {spec.event} transition of '{name}' never "
                     "runs: an earlier one for the same event has no guard",
                     "move it before the unguarded one, or give the earlier one an `if:`",
                     _shadow_witness(spec, rules, graph))
    if tools is not None:
        out += _unknown_flow_tools(flow, tools)
    for spec in flow.transitions:
        if spec.event == "call.started" and spec.source != flow.initial:
            witness = None
            if rules is not None and spec.target != flow.initial:
                witness = Witness((rules.initial(),), {"state": spec.target})
            warn("dead", spec.line, f"call.started never reaches '{spec.source}': the engine "
                 f"starts the call in '{flow.initial}', and only its handlers see the event",
                 f"move this handler under the `on:` of '{flow.initial}' (e.g. "
                 "`call.started: {unless: open_now, to: after_hours}`)", witness)
        for guard in spec.guards:
            if guard.name == "tool" and tools is not None and str(guard.arg) not in tools:
                warn("dead", guard.line or spec.line, f"no tool named '{guard.arg}' can be "
                     "called, so this guard never holds", "use one of: "
                     + ", ".join(sorted(tools)))
    return out


def _unknown_flow_tools(flow: Flow, tools: frozenset[str]) -> list[Finding]:
    """`call_tool` naming a tool that is not installed: an error (it would always fail)."""
    steps = [s for st in flow.states.values() for s in (*st.enter, *st.exit)]
    steps += [s for t in flow.transitions for s in t.actions]
    out, seen = [], set()
    for step in steps:
        name = str((step.arg or {}).get("name")) if step.name == "call_tool" else None
        if name is not None and name not in tools and step.line not in seen:
            seen.add(step.line)
            out.append(Finding("unknown-tool", ERROR, flow.path, step.line,
                               f"call_tool names no tool '{name}'", "use one of: "
                               + ", ".join(sorted(tools))))
    return out


def _shadow_witness(spec: TransitionSpec, rules: Rules | None,
                    graph: Graph | None) -> Witness | None:
    """Reach the state, send the event the shadowed transition waits for: another one runs."""
    if rules is None or graph is None:
        return None
    c = next((c for c in graph.order if c.state == spec.source and not c.cleared), None)
    if c is None:
        return None
    for stimulus in rules.stimuli(c):
        if stimulus.event == spec.event and all(rules.holds(g, c, stimulus)
                                                for g in spec.guards):
            move = rules.apply(c, stimulus)
            if move.after.state != spec.target:
                return Witness((*graph.path_to(c), move), {"state": spec.target})
    return None


def _shadowed(specs: list[TransitionSpec]) -> list[TransitionSpec]:
    out, open_events = [], set()
    for spec in specs:
        if spec.event in open_events:
            out.append(spec)
        elif not spec.guards:
            open_events.add(spec.event)
    return out


def clashes(flow: Flow, text: str, builtin_tools: frozenset[str] | None,
            providers: Mapping[str, frozenset[str]] | None) -> list[Finding]:
    out: list[Finding] = []
    lines = text.splitlines()
    seen: set[str] = set()
    for tool in flow.http_tools:
        name = str(tool.get("name", ""))
        line = _line_of(lines, rf"^\s*-?\s*name:\s*['\"]?{re.escape(name)}['\"]?\s*(#.*)?$")
        if builtin_tools is not None and name in builtin_tools:
            out.append(Finding("clash", ERROR, flow.path, line, f"the HTTP tool '{name}' has "
                               "the name of a built-in tool", f"rename it, e.g. '{name}_http'"))
        elif name in seen:
            out.append(Finding("clash", ERROR, flow.path, line, f"two HTTP tools are named "
                               f"'{name}'", "give each HTTP tool its own name"))
        seen.add(name)
    for slot, known in (providers or {}).items():
        section = getattr(flow.settings, slot, None)  # embeddings: settings.knowledge's own
        wanted = getattr(section, "provider", None)
        if isinstance(wanted, str) and wanted.strip().lower() not in {"auto", *known}:
            line = _line_of(lines, rf"^\s*provider:\s*['\"]?{re.escape(wanted)}")
            out.append(Finding("provider", ERROR, flow.path, line,
                               f"unknown {slot} provider '{wanted}'",
                               "use auto or one of: " + ", ".join(sorted(known))))
    return out


def _line_of(lines: list[str], pattern: str) -> int:
    regex = re.compile(pattern)
    return next((i for i, line in enumerate(lines, 1) if regex.search(line)), 1)
