"""Finding about hold music: music that plays on while the flow waits for nothing but the
caller.

A `filler` with `hold_music: true` loops the music until its state is left. That is right
while a tool, a reply or a transfer is awaited; but a state that takes the result and stays
(a `tool.done` handler with no `to:`) keeps the music going over a caller who is now
expected to talk. (A warm transfer's own music needs no finding: the transfer's outcome
stops it wherever the flow goes.)

The witness takes the shortest path to that wait (the result comes before the music would
start) and then waits out the filler's delay: a correct flow has left the state, so no
music starts (`expect: {audio: []}`); this one starts it.
"""

from __future__ import annotations

from flows.durations import parse_duration
from flows.explore.finding import WARNING, Finding, Witness
from flows.explore.search import Graph
from flows.explore.step import Rules


def music_over_nothing(rules: Rules, graph: Graph) -> list[Finding]:
    flow, out, seen = rules.flow, [], set()
    for c in graph.order:
        state = flow.states.get(c.state)
        if state is None or state.final or c.state in seen or c.tool or c.reply or c.transfer:
            continue
        step = next((s for s in state.enter if s.name == "filler" and isinstance(s.arg, dict)
                     and s.arg.get("hold_music") is True), None)
        if step is None or not c.started:
            continue
        seen.add(c.state)
        path = graph.path_to(c)
        last = path[-1] if path else None
        after = last.stimulus.label() if last else "its entry"
        line = last.lines[0] if last and last.lines else step.line or state.line
        wait = parse_duration(step.arg.get("after", "2s")) + 1.0  # the music would be on
        out.append(Finding(
            "music", WARNING, flow.path, line,
            f"'{c.state}' keeps playing hold music (line {step.line}) after {after}, when it "
            "waits for no tool, reply or transfer: the caller would talk over the music",
            f"lead that handler out of '{c.state}' (`to:`), or play the music only in a state "
            "that waits for a result", Witness(tuple(path), {"audio": []}, wait=wait)))
    return out
