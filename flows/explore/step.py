"""The rules of the abstract call: which stimuli a configuration admits and where each leads.

They mirror the engine (engine/call.py, engine/runner.py, engine/playback.py) on data only:
transitions are tried in order and the first whose guards hold wins; a transition's `do:`
runs, then the state is left (its tasks are cancelled unless `keep_tasks`, its timer
stops), then the next state is entered (its timer armed, its `enter:` run). A playback
report reaches the flow only when nothing more is queued and no reply is still streaming.
Behaviours are known by name; one the checker does not know (a plugin) counts as doing
nothing it can see.
"""

from __future__ import annotations

from dataclasses import replace

from flows.events import ANSWERED_BY, ANSWERS
from flows.explore.config import (
    CALLER,
    HANGUP,
    IDLE,
    INTERNAL,
    MARK,
    OUTCOME,
    PENDING,
    PROVIDER,
    RELIABLE,
    STREAMING,
    WATCHDOG,
    Config,
    Move,
    Stimulus,
)
from flows.explore.opaque import (
    OPAQUE_GUARDS,
    TIME_GUARDS,
    VAR_GUARDS,
    clock_outcomes,
    guard_var,
    opaque_key,
    tracked_vars,
    var_holds,
)
from flows.model import Flow, GuardRef, Step, TransitionSpec
from flows.outbound_checks import answer_values

SIDE_EFFECTS = ("say", "repeat_last", "transfer", "warm_transfer", "take_message", "hang_up")
COLD_OUTCOMES = ("transfer.done", "transfer.failed")
WARM_OUTCOMES = ("transfer.answered", "transfer.completed", "transfer.busy",
                 "transfer.no_answer", "transfer.canceled", "transfer.failed")
NOT_CONNECTED = frozenset({"transfer.failed", "transfer.busy", "transfer.no_answer",
                           "transfer.canceled"})
# `filler` is not modelled: it speaks only if the state is still waiting seconds later, so
# a call may leave before it says anything (and its marks are not waited for by the flow).
MAX_OPAQUE = 4  # beyond this many per handler, only all-hold and none-hold are tried
FINISHED = "reply.finished"  # not an event: the reply stopped adding speech
FORCED = "watchdog.hang_up"  # not an event: the watchdog ended the call
OTHER_DIGIT = "5"


class Rules:
    """The flow compiled for exploration: transitions by (state, event), the outcomes worth
    telling apart (digits and tools that guards name)."""

    def __init__(self, flow: Flow, tools: frozenset[str] | None = None):
        self.flow = flow
        self.counter_names = tuple(flow.counters)
        self.table: dict[tuple[str, str], list[TransitionSpec]] = {}
        for spec in flow.transitions:
            self.table.setdefault((spec.source, spec.event), []).append(spec)
        named = {g.arg: g.name for t in flow.transitions for g in t.guards
                 if g.name in ("digit", "tool")}
        digits = sorted(str(a) for a, n in named.items() if n == "digit")
        self.digits = [*digits, OTHER_DIGIT if OTHER_DIGIT not in digits else "9"]
        guarded = sorted(str(a) for a, n in named.items() if n == "tool")
        other = sorted((tools or frozenset()) - set(guarded)) or ["a_tool"]
        self.tools = [*guarded, other[0]]
        self.var_names = tracked_vars(flow)
        self.outbound = any(t.event == ANSWERED_BY for t in flow.transitions)
        self._clocks: dict[frozenset[str], str] | None = None

    def initial(self) -> Move:
        """Entering the initial state on `call.started`."""
        branches = (self.flow.initial, "call.started") in self.table
        start = Config(self.flow.initial, counters=(0,) * len(self.counter_names),
                       started=not branches, amd=self.outbound,
                       vars=tuple(self.flow.vars[n] for n in self.var_names))
        draft = _Draft(self, start)
        if not branches:
            draft.enter(self.flow.initial)
        return draft.move(Stimulus("call.started", CALLER), True, ())

    def stimuli(self, c: Config) -> list[Stimulus]:
        """Everything that can happen next in `c`, unhappy outcomes included."""
        state = self.flow.states.get(c.state)
        if state is None or state.final:  # over (or hung up by the watchdog)
            return []
        if not c.started:  # the engine hands call.started to the initial state at once
            return self._opaque(c, [Stimulus("call.started", RELIABLE)])
        if c.cleared:  # the runner queued the acknowledgement already: nothing comes first
            return [Stimulus("agent.playback_cleared", RELIABLE)]
        out = [Stimulus("caller.speech_started", CALLER, long=True),
               Stimulus("caller.speech_started", CALLER, long=False)]
        if not c.stt_dead:
            out += [Stimulus("caller.utterance", CALLER, understood=True),
                    Stimulus("caller.utterance", CALLER, understood=False),
                    Stimulus("caller.transcript", CALLER),
                    Stimulus("stt.error", PROVIDER)]
        if c.collecting:  # the keys go to the collection, not to the flow
            out.append(Stimulus("dtmf.collected", CALLER))  # with retries left, a pause
            out.append(Stimulus("dtmf.retry" if c.collecting == 2 else "dtmf.timeout",
                                RELIABLE))  # starts over first
        else:
            out += [Stimulus("caller.dtmf", CALLER, digit=d) for d in self.digits]
        out.append(Stimulus("call.hangup", HANGUP))
        if c.reply == PENDING:
            out.append(Stimulus("agent.reply_started", OUTCOME))
        if c.reply != IDLE:
            out += [Stimulus("llm.tool_call", OUTCOME, tool=t) for t in self.tools]
            # a reply spoken by a dead voice fails for sure (the runner reports llm.error)
            sure = c.reply == STREAMING and c.voice_dead
            out.append(Stimulus("llm.error", RELIABLE if sure else PROVIDER))
        if c.reply == STREAMING:
            out.append(Stimulus(FINISHED, INTERNAL))
        if c.tool:
            out += [Stimulus("tool.done", OUTCOME), Stimulus("tool.failed", OUTCOME)]
        if c.amd:  # Twilio's detection answers once, any time (or never: it may be lost)
            out += [Stimulus(ANSWERED_BY, OUTCOME, answer=a) for a in ANSWERS]
        if c.transfer:
            out += [Stimulus(e, OUTCOME) for e in (WARM_OUTCOMES if c.warm else COLD_OUTCOMES)]
        if c.playing and c.reply != STREAMING:
            out.append(Stimulus("agent.playback_done", MARK))
        if c.playing and not c.voice_dead:
            out.append(Stimulus("tts.error", PROVIDER))
        if c.tts_pending:
            out.append(Stimulus("tts.error", RELIABLE))
        timeout = state.timeout
        if c.timer and timeout is not None:
            out.append(Stimulus(timeout.event, RELIABLE))
        if self.flow.settings.limits.max_call is not None:
            if c.limit == 0:
                out.append(Stimulus("call.time_limit", WATCHDOG))
            else:
                out.append(Stimulus(FORCED, WATCHDOG))
        return self._opaque(c, out)

    def _opaque(self, c: Config, out: list[Stimulus]) -> list[Stimulus]:
        """Each stimulus once per combination of the clock/variable guards its handlers test
        (variables followed exactly are not guessed; the start's clock is tried for real)."""
        expanded: list[Stimulus] = []
        for s in out:
            guards = [g for spec in self.table.get((c.state, s.event), ())
                      for g in spec.guards if g.name in OPAQUE_GUARDS
                      and not (g.name in VAR_GUARDS and guard_var(g) in self.var_names)]
            keys = sorted({opaque_key(g) for g in guards})
            if not keys:
                expanded.append(s)
                continue
            if s.event == "call.started" and all(g.name in TIME_GUARDS for g in guards):
                if self._clocks is None:
                    self._clocks = clock_outcomes(self.flow, guards)
                expanded += [replace(s, opaque=combo, clock=moment)
                             for combo, moment in self._clocks.items()]
                continue
            if len(keys) > MAX_OPAQUE:
                combos = [frozenset(), frozenset(keys)]
            else:
                combos = [frozenset(k for i, k in enumerate(keys) if mask >> i & 1)
                          for mask in range(1 << len(keys))]
            expanded += [replace(s, opaque=combo, guessed=True) for combo in combos]
        return expanded

    def apply(self, c: Config, s: Stimulus) -> Move:
        """The move `s` makes from `c`."""
        if s.event == FORCED:
            return Move(s, Config("<hung up by the watchdog>"), True, effects=("hang_up",))
        draft = _Draft(self, _consume(c, s, self.flow))
        if s.event == FINISHED:
            return draft.move(s, True, ())
        for spec in self.table.get((c.state, s.event), ()):
            if all(self.holds(g, draft.c, s) for g in spec.guards):
                draft.take(spec)
                if s.event == "call.started" and spec.dest is None:
                    draft.enter(c.state)  # stayed: the initial state is entered after all
                return draft.move(s, True, (spec.line,), spec.dest)
        if s.event == "call.started":  # no handler led away: the initial state is entered
            draft.enter(c.state)
            return draft.move(s, True, ())
        return draft.move(s, False, ())

    def holds(self, guard: GuardRef, c: Config, s: Stimulus) -> bool:
        """The guard's outcome for stimulus `s` in `c`."""
        name, arg = guard.name, guard.arg
        if name == "understood":
            value = s.understood
        elif name == "long_enough":
            value = s.long
        elif name == "below_limit":
            index = self.counter_names.index(arg)
            value = c.counters[index] < self.flow.counters[arg]
        elif name == "digit":
            value = s.digit == str(arg)
        elif name == "tool":
            value = s.tool == str(arg)
        elif name == "answered_by":
            value = s.answer in answer_values(arg)
        elif name in VAR_GUARDS and guard_var(guard) in self.var_names:
            value = var_holds(self.flow, guard, dict(zip(self.var_names, c.vars, strict=True)))
        elif name in OPAQUE_GUARDS:
            value = opaque_key(guard) in s.opaque
        else:
            value = True  # a plugin guard: assume it can hold
        return value != guard.negate


def _consume(c: Config, s: Stimulus, flow: Flow) -> Config:
    """What an event changes before any transition runs (the ledger, the task that ended)."""
    e = s.event
    if e == "call.started":
        return c.but(started=True)
    if e == ANSWERED_BY:
        return c.but(amd=False)
    if e == "agent.playback_done":
        return c.but(playing=False)
    if e == "agent.reply_started":
        return c.but(reply=STREAMING, playing=not c.voice_dead)
    if e in ("llm.tool_call", "llm.error", FINISHED):
        return c.but(reply=IDLE)
    if e in ("tool.done", "tool.failed"):
        return c.but(tool=False)
    if e in ("dtmf.collected", "dtmf.timeout"):
        return c.but(collecting=0)
    if e == "dtmf.retry":
        return c.but(collecting=1)  # an abstraction: at least the last try is left
    if c.transfer and c.warm and e == "transfer.answered":
        return c  # the human hears the whisper; the bridge (or a failure) is still to come
    if c.transfer and e in (WARM_OUTCOMES if c.warm else COLD_OUTCOMES):
        return c.but(transfer=False, warm=False,
                     transfer_failed=c.transfer_failed or e in NOT_CONNECTED)
    if e == "tts.error":
        return c.but(voice_dead=True, playing=False, tts_pending=False)
    if e == "stt.error":
        return c.but(stt_dead=True)
    if e == "agent.playback_cleared":
        return c.but(cleared=False)
    if e == "call.time_limit":
        return c.but(limit=1)
    timeout = flow.states[c.state].timeout
    if timeout is not None and e == timeout.event and s.kind == RELIABLE:
        return c.but(timer=False)
    return c


class _Draft:
    """A configuration being changed by one transition, with what the change did."""

    def __init__(self, rules: Rules, c: Config):
        self.rules, self.c = rules, c
        self.effects: list[str] = []
        self.spawned: list[str] = []
        self.transfer_lines: list[int] = []
        self.armed = False
        self.tool_name = ""  # the tool a `call_tool` step names (a witness answers it)

    def take(self, spec: TransitionSpec) -> None:
        self.run(spec.source, spec.actions)
        if spec.dest is None:
            return
        c = self.c
        if not spec.keep_tasks:
            abandoned = c.transfer
            self.c = c.but(reply=IDLE, tool=False, transfer=False, collecting=0, warm=False,
                           transfer_failed=c.transfer_failed or abandoned)
        self.c = self.c.but(timer=False)
        self.run(spec.source, self.rules.flow.states[spec.source].exit)
        self.enter(spec.dest)

    def enter(self, name: str) -> None:
        state = self.rules.flow.states[name]
        if state.final:
            self.c = Config(name)
        self.c = self.c.but(state=name, timer=state.timeout is not None)
        self.armed = self.armed or state.timeout is not None
        self.run(name, state.enter)

    def run(self, state: str, steps: tuple[Step, ...]) -> None:
        for step in steps:
            self._step(state, step)

    def _step(self, state: str, step: Step) -> None:
        c, name = self.c, step.name
        if name in SIDE_EFFECTS:
            self.effects.append(f"say {step.arg}" if name == "say" else name)
        if name in ("say", "repeat_last"):
            self.c = c.but(tts_pending=True) if c.voice_dead else c.but(playing=True)
        elif name == "respond":
            self.c = c.but(reply=PENDING)
            self.spawned.append("reply")
        elif name == "collect_digits":
            retries = (step.arg or {}).get("retries", 0) if isinstance(step.arg, dict) else 0
            self.c = c.but(collecting=2 if retries else 1)
        elif name in ("run_tool", "call_tool"):
            self.c = c.but(tool=True)
            self.spawned.append("tool")
            if name == "call_tool" and isinstance(step.arg, dict):
                self.tool_name = str(step.arg.get("name", ""))
        elif name in ("transfer", "warm_transfer"):
            self.c = c.but(transfer=True, warm=name == "warm_transfer")
            self.spawned.append("transfer")
            self.transfer_lines.append(step.line)
        elif name == "stop_speaking":
            self.c = c.but(playing=False, cleared=True)
        elif name in ("count", "reset"):
            index = self.rules.counter_names.index(step.arg)
            top = self.rules.flow.counters[step.arg]
            value = min(c.counters[index] + 1, top) if name == "count" else 0
            self.c = c.but(counters=(*c.counters[:index], value, *c.counters[index + 1:]))
        elif name == "set" and isinstance(step.arg, dict):
            names = self.rules.var_names
            values = list(c.vars)
            for var, value in step.arg.items():
                if var in names:
                    values[names.index(var)] = value
            self.c = c.but(vars=tuple(values))
        elif name == "restart_timer":
            armed = self.rules.flow.states[state].timeout is not None
            self.c = c.but(timer=armed)
            self.armed = self.armed or armed
        elif name == "stop_timer":
            self.c = c.but(timer=False)

    def move(self, s: Stimulus, handled: bool, lines: tuple[int, ...],
             dest: str | None = None) -> Move:
        return Move(s, self.c, handled, lines, tuple(self.effects), tuple(self.spawned),
                    self.armed, dest, tuple(self.transfer_lines), self.tool_name)
