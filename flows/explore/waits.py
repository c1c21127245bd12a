"""Findings about waiting: stalls, the caller's input thrown away, actions a lost mark skips.

- a stall is a reachable configuration with no armed timer (and nothing else sure to come)
  whose only ways out are events that may never come: a lost playback report, a silent
  caller, a reply, tool or transfer that hangs;
- lost input is a state where the caller may be speaking but `caller.utterance` or
  `caller.speech_started` has no transition there and is not in its `ignore:`;
- a lost mark skips an action when a transfer, hang-up or message happens only once the
  playback report comes, and the state's timer leads away without doing it.
"""

from __future__ import annotations

from flows.explore.config import RELIABLE, Config, Move
from flows.explore.finding import ERROR, Finding, Witness
from flows.explore.search import Graph
from flows.explore.step import Rules

HEARD = ("caller.utterance", "caller.speech_started")
STALL_WAIT = 3600.0
MARK_ACTIONS = {"transfer": "transfer", "warm_transfer": "transfer", "hang_up": "hung_up",
                "take_message": "ticket"}


def stalls(rules: Rules, graph: Graph) -> list[Finding]:
    flow, out, seen = rules.flow, [], set()
    for c in graph.order:
        state = flow.states.get(c.state)
        if state is None or state.final:
            continue
        if any(s.kind == RELIABLE for s in rules.stimuli(c)):
            continue
        path = graph.path_to(c)
        last = path[-1]
        key = (c.state, last.lines)
        if key in seen:
            continue
        seen.add(key)
        line = last.lines[0] if last.lines else state.line
        waits = _waiting_for(c)
        out.append(Finding(
            "stall", ERROR, flow.path, line,
            f"a call can wait forever in '{c.state}' after {last.stimulus.label()}: no timer "
            f"is armed and only {waits} can move it on",
            _stall_fix(rules, c, last), Witness(tuple(path), {"ended": True},
                                                wait=_stall_wait(rules))))
    return out


def _waiting_for(c: Config) -> str:
    parts = ["a playback report" if c.playing else "", "the reply" if c.reply else "",
             "the tool" if c.tool else "", "the transfer" if c.transfer else "", "the caller"]
    return ", ".join(p for p in parts if p)


def _stall_fix(rules: Rules, c: Config, last: Move) -> str:
    state = rules.flow.states[c.state]
    if state.timeout is None:
        return f"give '{c.state}' a `timeout:` and handle its event"
    if last.stimulus.event == state.timeout.event and last.dest is None:
        return (f"this {state.timeout.event} handler stays in '{c.state}' without arming the "
                f"timer again: add `restart_timer` to its `do:` (or lead it `to: {c.state}`)")
    if last.dest is None:
        return ("this transition leaves the timer stopped: drop `stop_timer`, or add "
                "`restart_timer` so a lost report cannot leave the call waiting")
    return f"arm the timer of '{c.state}' on the way in (`restart_timer`)"


def _stall_wait(rules: Rules) -> float:
    limits = rules.flow.settings.limits
    if limits.max_call is None:
        return STALL_WAIT
    return limits.max_call + limits.hangup_after + 60.0


def lost_input(rules: Rules, graph: Graph) -> list[Finding]:
    flow, out = rules.flow, []
    first: dict[str, Config] = {}
    sources: dict[str, set[str]] = {}
    for c in graph.order:
        for move in graph.moves[c]:
            if move.handled and move.after.state != c.state:
                sources.setdefault(move.after.state, set()).add(c.state)
        if not c.stt_dead and not c.cleared and c.started:  # call.started runs first
            first.setdefault(c.state, c)
    for name, c in first.items():
        state = flow.states.get(name)
        if state is None or state.final:
            continue
        missing = [e for e in HEARD
                   if not rules.table.get((name, e)) and e not in state.ignore]
        if not missing:
            continue
        stimulus = next(s for s in rules.stimuli(c) if s.event == missing[0])
        move = rules.apply(c, stimulus)
        via = ", ".join(sorted(sources.get(name, ()))) or "the start"
        out.append(Finding(
            "lost-input", ERROR, flow.path, state.line,
            f"the caller may be speaking in '{name}' (reached from {via}) but "
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not handled "
            "there: their words are thrown away", _heard_fix(name, missing),
            Witness((*graph.path_to(c), move), {"ignored": False})))
    return out


def _heard_fix(state: str, events: list[str]) -> str:
    examples = {"caller.utterance": "`caller.utterance: {if: understood, to: thinking}`",
                "caller.speech_started": "`caller.speech_started: {if: long_enough, to: "
                                         "barge_in}`"}
    return (f"handle them in '{state}', e.g. " + " and ".join(examples[e] for e in events)
            + f"; if dropping is intended, say so with `ignore: [{', '.join(events)}]`")


def lost_marks(rules: Rules, graph: Graph) -> list[Finding]:
    """A transfer, hang-up or message that only a playback report can set off."""
    flow, out = rules.flow, []
    reached = {c.state: c for c in reversed(graph.order) if c.playing and c.timer}
    for name, c in reached.items():
        state = flow.states[name]
        if state.timeout is None:
            continue
        marks = [t for t in flow.transitions_from(name) if t.event == "agent.playback_done"]
        timers = [t for t in flow.transitions_from(name) if t.event == state.timeout.event]
        missing = _actions(rules, marks) - _actions(rules, timers)
        for action in sorted(missing & set(MARK_ACTIONS)):
            spec = next(t for t in marks if action in _actions(rules, [t]))
            out.append(Finding(
                "lost-mark", ERROR, flow.path, spec.line,
                f"in '{name}' the {action.replace('_', ' ')} happens only when the playback "
                f"report comes: if that mark is lost, {state.timeout.event} leads away "
                "without it", f"do the {action.replace('_', ' ')} on {state.timeout.event} "
                f"too, e.g. a short `timeout:` whose handler does `{action}` (or goes to a "
                "state that does it on entry)",
                Witness(tuple(graph.path_to(c)), {MARK_ACTIONS[action]: True},
                        wait=state.timeout.after)))
    return out


def _actions(rules: Rules, specs: list) -> set[str]:
    names: set[str] = set()
    for spec in specs:
        names.update(step.name for step in spec.actions)
        if spec.dest is not None and spec.dest != spec.source:
            names.update(step.name for step in rules.flow.states[spec.dest].enter)
    return names
