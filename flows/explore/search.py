"""Breadth-first exploration of every configuration a call can reach, and paths through it.

`Graph` keeps, for each configuration, the moves out of it and the move that first reached
it, so the shortest path (a witness) to anything is read back from the parents.
`cycles` finds strongly connected parts of a sub-graph with `strongly_connected` (Tarjan,
without recursion, for any graph: the import-graph test uses it too).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import TypeVar

from flows.explore.config import WATCHDOG, Config, Move
from flows.explore.step import Rules

T = TypeVar("T")

MAX_CONFIGS = 20_000  # a flow this large is reported as too large to explore, not hung on
MAX_SECONDS = 10.0  # and so is one whose exploration takes longer than this


@dataclass
class Graph:
    start: Move
    moves: dict[Config, list[Move]] = field(default_factory=dict)
    parent: dict[Config, tuple[Config, Move] | None] = field(default_factory=dict)
    order: list[Config] = field(default_factory=list)
    truncated: bool = False

    def path_to(self, c: Config) -> list[Move]:
        """The shortest list of moves from the start (call.started first) to `c`."""
        out: list[Move] = []
        link = self.parent.get(c)
        while link is not None:
            out.append(link[1])
            link = self.parent.get(link[0])
        out.append(self.start)
        return out[::-1]


def explore(rules: Rules, limit: int = MAX_CONFIGS, seconds: float = MAX_SECONDS) -> Graph:
    """Breadth first; what the watchdog alone reaches is visited last, so that witnesses
    use it only when nothing else leads there (it fires after minutes, not at once)."""
    start = rules.initial()
    graph = Graph(start)
    graph.parent[start.after] = None
    todo = deque([start.after])
    later: deque[tuple[Config, Move]] = deque()
    deadline = time.monotonic() + seconds
    while todo or later:
        if len(graph.order) % 512 == 0 and time.monotonic() > deadline:
            graph.truncated = True
            break
        if todo:
            c = todo.popleft()
        else:
            source, via = later.popleft()
            if via.after in graph.parent:
                continue
            if len(graph.parent) >= limit:
                graph.truncated = True
                continue
            c = via.after
            graph.parent[c] = (source, via)
        graph.order.append(c)
        out = graph.moves[c] = []
        for stimulus in rules.stimuli(c):
            move = rules.apply(c, stimulus)
            out.append(move)
            if move.after in graph.parent:
                continue
            if len(graph.parent) >= limit:
                graph.truncated = True
            elif stimulus.kind == WATCHDOG:
                later.append((c, move))
            else:
                graph.parent[move.after] = (c, move)
                todo.append(move.after)
    return graph


def shortest(graph: Graph, source: Config, goal: Callable[[Config], bool],
             keep: Callable[[Move], bool]) -> list[Move] | None:
    """The shortest path of `keep` moves from `source` to a configuration meeting `goal`
    (at least one move long)."""
    seen: dict[Config, tuple[Config, Move]] = {}
    todo = deque([source])
    while todo:
        c = todo.popleft()
        for move in graph.moves.get(c, ()):
            if not keep(move) or move.after in seen:
                continue
            seen[move.after] = (c, move)
            if goal(move.after):
                path, at = [], move.after
                while True:
                    prev, m = seen[at]
                    path.append(m)
                    if prev == source:
                        return path[::-1]
                    at = prev
            todo.append(move.after)
    return None


def cycles(graph: Graph, keep: Callable[[Move], bool]) -> Iterator[set[Config]]:
    """Strongly connected sets (with at least one edge inside) of the `keep` sub-graph."""
    def successors(c: Config) -> list[Config]:
        return _next(graph, c, keep)

    for part in strongly_connected(graph.order, successors):
        node = next(iter(part))
        if len(part) > 1 or node in successors(node):
            yield part


def strongly_connected(roots: Iterable[T], successors: Callable[[T], Iterable[T]]
                       ) -> Iterator[set[T]]:
    """Every strongly connected set of the graph reachable from `roots` (Tarjan, without
    recursion), single nodes included; any hashable node type."""
    index: dict[T, int] = {}
    low: dict[T, int] = {}
    stack: list[T] = []
    on_stack: set[T] = set()
    counter = 0
    for root in roots:
        if root in index:
            continue
        work = [(root, iter(successors(root)))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(successors(child))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                part: set[T] = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    part.add(member)
                    if member == node:
                        break
                yield part


def _next(graph: Graph, c: Config, keep: Callable[[Move], bool]) -> list[Config]:
    return [m.after for m in graph.moves.get(c, ()) if keep(m)]
