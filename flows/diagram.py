"""A flow as a drawable graph, shared by the Mermaid and Graphviz renderers.

`build_diagram(flow)` turns the flow's transitions into labelled edges: alternatives with the
same source, kind and destination share one edge (one label line each); internal transitions
("stay", no re-entry) and re-entries become self-loops of their own kind; `any:` transitions
start from a single "any state" pseudo-state instead of one copy per state; a timer event's
label says when it fires (`timer.silence after 8s`). `highlight_trace(flow, trace)` marks the
states an event-script run visited and the transitions it took.

Pure data: no I/O here. `flows/diagram_mermaid.py` and `flows/diagram_dot.py` render it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from flows.durations import format_duration
from flows.hold_music import hold_label, plays_hold_music
from flows.model import Flow, TransitionSpec

ANY = "\x00any"  # the source of edges built from `any:`; no state can have this name

MOVE, REENTER, STAY = "move", "reenter", "stay"
KIND_TAG = {MOVE: "", REENTER: "(re-enters)", STAY: "(stays)"}


@dataclass(frozen=True)
class Node:
    """A state box: its name, whether it ends the call, and its description lines."""

    name: str
    final: bool
    lines: tuple[str, ...]


@dataclass(frozen=True)
class Edge:
    """One arrow. `source` is a state or `ANY`; each of `lines` is one alternative, and
    `line_specs[i]` holds the indices (into `flow.transitions`) drawn as `lines[i]`.

    `kind` is MOVE (to another state), REENTER (`dest == source`: exit and entry run again)
    or STAY (`dest` left out: no exit, no entry).
    """

    source: str
    dest: str
    kind: str
    lines: tuple[str, ...]
    line_specs: tuple[frozenset[int], ...]

    @property
    def specs(self) -> frozenset[int]:
        return frozenset().union(*self.line_specs)

    @property
    def tag(self) -> str:
        """`(stays)` or `(re-enters)` for self-loops, shown above the alternatives."""
        return KIND_TAG[self.kind]


@dataclass(frozen=True)
class Diagram:
    name: str
    initial: str
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]
    any_lines: tuple[str, ...] = ()  # description of the "any state" pseudo-state

    @property
    def has_any(self) -> bool:
        return any(e.source == ANY for e in self.edges)


@dataclass(frozen=True)
class Highlight:
    """What one run visited: states in order, and the indices of transitions it may have taken
    (a trace tells the event and the states, not which guarded alternative fired)."""

    states: tuple[str, ...]
    specs: frozenset[int]
    started: bool  # the run entered the initial state from outside (`call.started`)

    @property
    def last(self) -> str | None:
        return self.states[-1] if self.states else None

    def took(self, edge: Edge, line: int | None = None) -> bool:
        """Whether the run took `edge` (or its alternative number `line`)."""
        specs = edge.specs if line is None else edge.line_specs[line]
        return not self.specs.isdisjoint(specs)


def build_diagram(flow: Flow, actions: bool = True) -> Diagram:
    """The flow's graph; `actions=False` leaves behaviours (`/ say …`) off the labels."""
    nodes = tuple(_node(flow, name, actions) for name in flow.states)
    groups: dict[tuple[str, str, str], list[tuple[int, str]]] = {}
    for index, spec in enumerate(flow.transitions):
        kind = STAY if spec.dest is None else REENTER if spec.dest == spec.source else MOVE
        source = ANY if spec.from_any else spec.source
        line = transition_label(flow, spec, actions)
        groups.setdefault((source, kind, spec.target), []).append((index, line))
    edges = tuple(_edge(source, kind, dest, items)
                  for (source, kind, dest), items in groups.items())
    finals = [name for name, state in flow.states.items() if state.final]
    any_lines = ("every state" + (" but " + ", ".join(finals) if finals else ""),
                 "after its own handlers", "never into itself")
    if any(state.ignore for state in flow.states.values()):
        any_lines += ("not where the state ignores the event",)
    return Diagram(flow.name, flow.initial, nodes, edges, any_lines)


def transition_label(flow: Flow, spec: TransitionSpec, actions: bool = True) -> str:
    """`event after 8s [guard, not guard2] / action, action` for one transition."""
    text = spec.event
    timeout = None if spec.from_any else flow.states[spec.source].timeout
    if timeout is not None and timeout.event == spec.event:
        text += f" after {format_duration(timeout.after)}"
    if spec.guards:
        text += " [" + ", ".join(g.label() for g in spec.guards) + "]"
    steps = [s.label() for s in spec.actions] + (["keep_tasks"] if spec.keep_tasks else [])
    if actions and steps:
        text += " / " + ", ".join(steps)
    return " ".join(text.split())


class Visits(Protocol):
    """A call's record as the diagram reads it (`engine/trace.py`'s `Trace` is one)."""

    @property
    def entries(self) -> Sequence[Any]: ...  # each with `before` and `after` state names

    def states(self) -> list[str]: ...

    def edges(self) -> list[tuple[str, str, str]]: ...


def highlight_trace(flow: Flow, trace: Visits) -> Highlight:
    """The states `trace` visited and every transition that matches an edge it took."""
    taken: set[int] = set()
    for source, event, dest in trace.edges():
        taken.update(i for i, t in enumerate(flow.transitions)
                     if t.source == source and t.event == event and t.target == dest)
    states = tuple(s for s in trace.states() if s in flow.states)
    started = any(not e.before and e.after == flow.initial for e in trace.entries)
    return Highlight(states, frozenset(taken), started)


def _edge(source: str, kind: str, dest: str, items: list[tuple[int, str]]) -> Edge:
    """Alternatives in flow order; identical labels share a line."""
    lines: dict[str, set[int]] = {}
    for index, line in items:
        lines.setdefault(line, set()).add(index)
    return Edge(source, dest, kind, tuple(lines), tuple(frozenset(v) for v in lines.values()))


def _node(flow: Flow, name: str, actions: bool) -> Node:
    state = flow.states[name]
    lines = [state.description] if state.description else []
    if actions and state.enter:
        lines.append("enter / " + ", ".join(s.label() for s in state.enter))
    if actions and state.exit:
        lines.append("exit / " + ", ".join(s.label() for s in state.exit))
    if actions and plays_hold_music(list(state.enter)):
        lines.append(f"while waiting / {hold_label(flow.settings.hold_music)}")
    if state.ignore:
        lines.append("ignores " + ", ".join(state.ignore))
    return Node(name, state.final,
                tuple(" ".join(line.split()) for line in lines))
