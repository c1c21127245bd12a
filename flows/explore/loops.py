"""Findings about repetition and length: loops with side effects, a failed transfer tried
again, calls with no upper bound.

- a loop is a cycle of configurations reachable without the caller doing anything (timers,
  playback reports, provider errors, tools) that says a prompt, transfers, takes a message
  or hangs up on every turn: counters are part of a configuration, so a counted retry is
  not a cycle;
- a retry is a transfer started after one failed or was abandoned in the same call;
- a call is unbounded when the flow declares no `settings.limits.max_call`.
"""

from __future__ import annotations

from flows.explore.config import CALLER, HANGUP, WATCHDOG, Move
from flows.explore.finding import ERROR, WARNING, Finding, Witness
from flows.explore.search import Graph, cycles, shortest
from flows.explore.step import Rules

UNBOUNDED_SPAN = 3600.0  # how long the unbounded witness keeps a call open
CYCLE_STARTS = 20  # configurations tried as the start of the caller's endless loop


def _unprompted(move: Move) -> bool:
    return move.stimulus.kind not in (CALLER, HANGUP, WATCHDOG)


def loops(rules: Rules, graph: Graph) -> list[Finding]:
    flow, out, seen = rules.flow, [], set()
    position = {c: i for i, c in enumerate(graph.order)}
    for part in cycles(graph, _unprompted):
        states = frozenset(c.state for c in part)
        if states in seen:
            continue
        for c in sorted(part, key=position.__getitem__):
            move = next((m for m in graph.moves[c] if m.effects and m.after in part
                         and _unprompted(m)), None)
            if move is None:
                continue
            back = [] if move.after == c else shortest(
                graph, move.after, lambda x, c=c: x == c,
                lambda m, part=part: _unprompted(m) and m.after in part)
            if back is None:
                continue
            seen.add(states)
            effects = sorted({e for m in [move, *back] for e in m.effects})
            line = move.lines[0] if move.lines else flow.states[c.state].line
            cycle = (move, *back)
            out.append(Finding(
                "loop", ERROR, flow.path, line,
                "without the caller doing anything the call can go round "
                + " -> ".join(dict.fromkeys(m.after.state for m in cycle))
                + " forever, each time doing " + ", ".join(effects),
                "bound the loop: count its turns (`{count: x}` with `if: {below_limit: x}`) "
                "or leave it for a state that ends the call",
                Witness(tuple(graph.path_to(c)), {"ended": True}, repeat=cycle, times=2)))
            break
    return out


def retries(rules: Rules, graph: Graph) -> list[Finding]:
    flow, out, seen = rules.flow, [], set()
    for c in graph.order:
        if not c.transfer_failed:
            continue
        for move in graph.moves[c]:
            if "transfer" not in move.spawned or move.transfer_lines in seen:
                continue
            seen.add(move.transfer_lines)
            line = move.transfer_lines[0] if move.transfer_lines else flow.states[c.state].line
            out.append(Finding(
                "retry", ERROR, flow.path, line,
                f"a transfer that already failed is attempted again ({move.stimulus.label()} "
                f"in '{c.state}'): another hold prompt, another failed transfer, another "
                "ticket", f"once a transfer failed, lead the call to an end: e.g. make "
                f"'{c.state}' handle {move.stimulus.event} itself, or `ignore:` it there",
                Witness((*graph.path_to(c), move), {"transfer": False})))
    return out


def unbounded(rules: Rules, graph: Graph) -> list[Finding]:
    flow = rules.flow
    limits = flow.settings.limits
    if limits.max_call is not None:
        if not any(t.event == "call.time_limit" for t in flow.transitions):
            return [Finding("limit-unhandled", WARNING, flow.path, limits.line or 1,
                            "no state handles call.time_limit: at the limit the watchdog "
                            "hangs up without a word", "add to `any:` e.g. `call.time_limit: "
                            "{to: goodbye, do: [{say: time_limit}]}`")]
        return []
    witness = None
    for c in graph.order[:CYCLE_STARTS]:
        cycle = shortest(graph, c, lambda x, c=c: x == c,
                         lambda m: m.handled and m.stimulus.kind not in (WATCHDOG, HANGUP))
        if cycle:
            witness = Witness(tuple(graph.path_to(c)), {"ended": True}, wait=1.0,
                              repeat=tuple(cycle), span=UNBOUNDED_SPAN, long_gaps=True)
            break
    line = flow.settings.limits.line or 1
    return [Finding("unbounded", ERROR, flow.path, line,
                    "nothing bounds the length of a call: a caller who keeps talking (or a "
                    "provider that keeps the call busy) keeps it open forever",
                    "declare a call-level limit: `settings: {limits: {max_call: 20m}}` and "
                    "handle `call.time_limit` (e.g. under `any:`, say goodbye and hang up)",
                    witness)]
