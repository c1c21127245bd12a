"""`Call`: one phone call — its queue, its single consumer, its timer, counters and tasks.

Events are handled one at a time, each to completion: the shared machine runs the
transition, behaviours record effects, control effects (counters, timer) apply at once, and
the effect runner then starts the rest as tasks owned by the state the call is now in. An
event posted while the call is idle (its consumer waiting, its queue empty, no event being
handled) is handled at once in the poster's stack; anything else waits in the queue, so the
order is first come, first handled either way, and the turn saves a trip through the event
loop, which at 200 calls can take several milliseconds. The
state's timer is re-armed on every entry and tagged with a generation; a timer event whose
generation is stale is dropped. A caller's utterance that continues the turn before it
(`engine/turns/continuation.py`) is handled with both turns' words. At the end the call
leaves no model, task or timer behind.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Coroutine
from datetime import UTC, datetime, timedelta
from typing import Any

from engine.effect import Effect
from engine.keypad import DigitCollector
from engine.latency import TurnTimeline
from engine.machine import FlowMachine
from engine.ports import Ports
from engine.runner import EffectRunner
from engine.tasks import CallTasks
from engine.trace import Trace, TraceEntry
from engine.transcripts import CallTranscript
from engine.turns.continuation import Continuation, own_words
from engine.turns.current import current_policy
from engine.watchdog import Watchdog
from flows.events import CALL_STARTED, EVENTS, PLAYBACK_DONE, TIME_LIMIT, Event, check_event
from flows.model import StateSpec, Step, TransitionSpec
from states.guards import clear_words
from states.registry import ACTIONS, GUARDS, StepContext
from states.telephony import HangUp
from states.time_guards import fixed_clock

log = logging.getLogger("dialflow.call")
CALL_OWNED = "*call*"  # tasks that must finish even when the state changes (hang-up, ticket)
FINAL_TASKS_DEADLINE = 5.0
MAX_CONVERSATION = 400  # turns kept for a ticket
_ids = itertools.count(1)


class Call:
    """The model the shared machine drives (`FlowMachine.fire`); the machine sets `state`."""

    def __init__(self, machine: FlowMachine, ports: Ports, call_id: str | None = None):
        self.flow = machine.flow
        self._machine = machine
        self.call_id = call_id or f"call-{next(_ids)}"
        self.queue: asyncio.Queue[Event] = asyncio.Queue()
        self.counters = dict.fromkeys(self.flow.counters, 0)
        self.playback = ports.playback  # owned by the telephony side, if there is one
        self.tasks = CallTasks(self.call_id)
        self.trace = Trace()
        self.timeline = TurnTimeline(self.call_id)
        self.transcript: CallTranscript | None = None  # set by the server to keep a record
        self._written = 0  # heard sentences already in the transcript
        self.runner = EffectRunner(self, ports)
        self.keypad = DigitCollector(self.post)
        self.caller = ""
        self.utterances: list[str] = []
        self.conversation: list[tuple[str, str]] = []  # (caller|agent, text) as heard
        self.last_utterance = ""  # the words the next `respond` answers (a joined turn's all)
        self.last_joins = ""  # the earlier words they continue (`engine/turns/continuation`)
        self.continuation = Continuation()
        self.vars = dict(self.flow.vars)
        self.last_said = ""  # set by the runner: the last speech queued for the caller
        self.last_reply = ""  # set by the runner: the brain's last whole reply
        self.wall_start: datetime | None = None  # the wall clock at call.started (scripts)
        self._started_at = 0.0
        self.ended = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._timer_gen = 0
        self._seq = itertools.count(1)
        self._effects: list[Effect] = []
        self._log: list[str] = []
        self._transition: TransitionSpec | None = None
        self._entered = False
        self._event = Event("")
        self._waiting = False  # the consumer is parked on an empty queue
        self._handling = False  # an event is being handled (posts made meanwhile queue up)
        self.watchdog = Watchdog(self.flow.settings.limits, lambda: self.post(TIME_LIMIT),
                                 self.force_end)
        machine.add(self)

    # -- inputs ---------------------------------------------------------------------------
    def post(self, event: str, /, **data: Any) -> None:
        """Queue an event for this call (from adapters, timers, the runner or a script).
        Raises `flows.events.EventError` for a name or fields the event does not declare.
        Events for a call that has ended are dropped."""
        spec = EVENTS.get(event)  # check_event, inlined: this runs for every event
        if spec is None or not (data.keys() >= spec.required and data.keys() <= spec.allowed):
            check_event(event, data)  # raises, naming the field
        if not self.ended:
            self._deliver(Event(event, data))

    def _deliver(self, event: Event) -> None:
        if self._waiting and not self._handling and self.queue.empty():
            self.handle(event)
            if self.ended:
                self.queue.put_nowait(event)  # wakes the consumer to finish the call
        else:
            self.queue.put_nowait(event)

    def armed_timer(self) -> tuple[str, float] | None:
        """The state timer armed now, as (event, seconds left), or None (event scripts)."""
        timeout = self.flow.states[self.state].timeout
        if self._timer is None or self._timer.cancelled() or timeout is None:
            return None
        left = self._timer.when() - self.now
        return (timeout.event, left) if left > 0 else None

    def next_id(self) -> int:
        return next(self._seq)

    def busy(self) -> list[str]:
        """The names of the call's live tasks (the speculator asks: is the brain busy?)."""
        return self.tasks.names()

    @property
    def speculation(self) -> Any:
        """The call's `engine.turns.speculation.Speculator`: the STT's guesses go here."""
        return self.runner.speculation

    @property
    def now(self) -> float:
        return self._loop.time() if self._loop else 0.0

    # -- the consumer ----------------------------------------------------------------------
    async def run(self) -> Trace:
        """Consume events until the call reaches a final state; always clean up."""
        self._loop = asyncio.get_running_loop()
        try:
            first = await self.queue.get()
            while first.name != CALL_STARTED:
                self._record(first, self.flow.initial, "before call.started; dropped")
                first = await self.queue.get()
            self._start(first)
            while not self.ended:
                self._waiting = True
                try:
                    event = await self.queue.get()
                finally:
                    self._waiting = False
                if not self.ended:
                    self.handle(event)
            await self._finish()
        finally:
            self._cleanup()
        return self.trace

    @property
    def wall_now(self) -> datetime:
        """The call's wall clock: real time, or the script's `clock:` moved on by the loop."""
        if self.wall_start is None:
            return datetime.now(UTC)
        return self.wall_start + timedelta(seconds=self.now - self._started_at)

    def _start(self, event: Event) -> None:
        self.caller = str(event.data.get("caller", ""))
        self._started_at = self.now
        self.wall_start = self.wall_start or fixed_clock(self.flow)
        self._event = event
        spec = self.flow.states[self.flow.initial]
        self._entered = False
        if self.flow.transitions_from_for(spec.name, CALL_STARTED):
            self._branch_at_start(event)  # the initial state's handlers decide first
        if not self._entered and self.state == spec.name:  # none led away: enter it
            self.state_entered(spec, event.name, event.data)
        self._commit(event, "", "", handled=True)
        if self._loop is not None and not self.ended:
            self.watchdog.start(self._loop)

    def _branch_at_start(self, event: Event) -> None:
        self._handling = True
        try:
            self._machine.fire(self, event.name, **event.data)
        except Exception:  # a bad guard must not kill the call: greet as usual
            log.exception("call %s: call.started handlers failed", self.call_id)
            self._effects.clear()
            self._log.append("call.started handlers failed; entering the initial state")
        finally:
            self._handling = False

    def force_end(self, reason: str) -> None:
        """End the call from outside the flow (the watchdog): hang up, stop consuming."""
        if self.ended:
            return
        self.trace.add(TraceEntry(self.now, TIME_LIMIT, {}, self.state, self.state,
                                  [HangUp().describe()], reason, True))
        self.runner.execute(HangUp())
        self.ended = True
        self.queue.put_nowait(Event(TIME_LIMIT))  # wakes the consumer to finish the call

    def handle(self, event: Event) -> None:
        """Run one event to completion; events posted meanwhile wait in the queue."""
        self._handling = True
        try:
            self._handle(event)
        finally:
            self._handling = False
            if event.name == "caller.utterance":  # a reply begun at a pause that Respond
                self.runner.speculation.settle()  # did not take over (other words) goes

    def _handle(self, event: Event) -> None:
        before = self.state
        if event.timer_gen is not None and event.timer_gen != self._timer_gen:
            self._record(event, before, "stale timer")
            return
        if event.name.startswith("dtmf.") and not self.keypad.is_current(event.data):
            self._record(event, before, "stale: that digit collection was cancelled")
            return
        if event.name == "caller.dtmf" and self.keypad.active:
            note = self.keypad.press(str(event.data.get("digit", "")))
            self._record(event, before, f"keypad: {note}")
            return
        if event.name == PLAYBACK_DONE:
            status = self._playback_status(event.data)
            self._write_heard()
            if status != "idle":
                self._record(event, before, status)
                return
        utterance = event.name == "caller.utterance"
        if utterance:
            confidence = event.data.get("confidence")  # this utterance's, before any join
            event = self._continued(event)
            self.utterances.append(own_words(event.data))  # the record keeps what was said
            self._converse("caller", self.utterances[-1])
            if self.transcript is not None:
                self.transcript.write("caller", text=self.utterances[-1], confidence=confidence)
        self._event = event
        self._transition = None
        self._entered = False
        try:
            handled = self._machine.fire(self, event.name, **event.data)
        except Exception as exc:  # a bug in a behaviour must not kill the call silently
            log.exception("call %s: %s failed in %s", self.call_id, event.name, before)
            self._effects.clear()
            self._commit(event, before, f"error: {type(exc).__name__}: {exc}", False)
            return
        if handled and utterance:
            self.last_utterance = str(event.data.get("text") or "")
        self.last_joins = str(event.data.get("joins") or "") if utterance else ""
        note = "" if handled else "ignored"
        if not handled and event.name in self.flow.states[before].ignore:
            note, handled = "dropped: the state ignores it", True  # the flow's own decision
        if handled and self._entered and before == self.state:
            note = "re-entered"
        self._commit(event, before, note, handled)

    def _continued(self, event: Event) -> Event:
        """The utterance, joined to the turn before when the caller was continuing it."""
        data = self.continuation.join(event.data, current_policy(self), len(self.playback.heard))
        return event if data is event.data else Event(event.name, data, event.timer_gen)

    def _write_heard(self) -> None:
        heard = self.playback.heard
        for speech in heard[self._written:]:
            self._converse("agent", speech.text)
            if self.transcript is not None:
                self.transcript.write("agent", text=speech.text)
        self._written = len(heard)

    def _converse(self, who: str, text: str) -> None:
        self.conversation.append((who, text))
        if len(self.conversation) > MAX_CONVERSATION:  # bounded; a ticket keeps the latest
            del self.conversation[0]

    def _playback_status(self, data: dict[str, Any]) -> str:
        if data.get("reply_done"):
            return "idle" if self.playback.idle else "playing"
        return self.playback.done(data.get("speech"))

    def _commit(self, event: Event, before: str, note: str, handled: bool) -> None:
        """Record the event and start the effects it produced, owned by the current state."""
        effects, self._effects = self._effects, []
        entry = TraceEntry(self.now, event.name, dict(event.data), before, self.state,
                           self._log, note, handled)
        self._log = []
        self.trace.add(entry)
        self._note_for_continuation(event, effects)
        for effect in effects:
            self.runner.execute(effect)
        if self.flow.states[self.state].final:
            self.ended = True

    def _note_for_continuation(self, event: Event, effects: list[Effect]) -> None:
        """What the caller's next words may continue (engine/turns/continuation.py): the
        turn a reply answers, or words the flow did not understand and answered only with
        speech (a reprompt); a tool, or a reply to anything but the caller's words, ends it."""
        kinds = {effect.kind for effect in effects}
        if event.name == "caller.utterance" and "run_tool" not in kinds and (
                "respond" in kinds or ("say" in kinds and not clear_words(
                    event.data, self.flow.settings.min_confidence))):
            self.continuation.responded(self.last_utterance, event.data.get("confidence"),
                                        len(self.playback.heard),
                                        bool(event.data.get("truncated")),
                                        bool(self.last_joins))
        elif kinds & {"respond", "run_tool"}:  # a reply to a tool's result, or a tool
            self.continuation.forget()

    def _record(self, event: Event, state: str, note: str) -> None:
        self.trace.add(TraceEntry(self.now, event.name, dict(event.data), state, state, [], note))

    # -- called by the machine's callbacks ---------------------------------------------------
    def _context(self, state: str, data: dict[str, Any]) -> StepContext:
        return StepContext(self.flow, state, self._event.name, data, self.counters,
                           self.vars, self.wall_now, self.caller, self.last_said,
                           self.last_reply)

    def guards_hold(self, spec: TransitionSpec, data: dict[str, Any]) -> bool:
        ctx = self._context(spec.source, data)
        return all(GUARDS[g.name].fn(ctx, g.arg) != g.negate for g in spec.guards)

    def transition_taken(self, spec: TransitionSpec, data: dict[str, Any]) -> None:
        self._transition = spec
        self._run_steps(spec.source, spec.actions, data)

    def state_exited(self, spec: StateSpec, dest: str | None) -> None:
        keep = bool(self._transition and self._transition.keep_tasks)
        self.tasks.leave(spec.name, dest, keep)
        if not keep:
            self.keypad.cancel()
        self._stop_timer()
        self._run_steps(spec.name, spec.exit, self._event.data)

    def state_entered(self, spec: StateSpec, event: str, data: dict[str, Any]) -> None:
        self._entered = True
        self._arm_timer(spec)
        self._run_steps(spec.name, spec.enter, data)

    def _run_steps(self, state: str, steps: tuple[Step, ...], data: dict[str, Any]) -> None:
        if not steps:
            return
        ctx = self._context(state, data)  # one per list: counters and vars are live mappings
        for step in steps:
            for effect in ACTIONS[step.name].fn(ctx, step.arg):
                self._apply(effect)

    def _apply(self, effect: Effect) -> None:
        effect.apply(self)  # a control effect changes the call now; the others are deferred
        self._log.append(effect.describe())

    # -- what control effects may change (engine.effect.CallControl) -------------------------
    def defer(self, effect: Effect) -> None:
        """Carry `effect` out once the event has run to completion."""
        self._effects.append(effect)

    def arm_timer(self) -> None:
        self._arm_timer(self.flow.states[self.state])

    def stop_timer(self) -> None:
        self._stop_timer()

    @property
    def loop(self) -> asyncio.AbstractEventLoop | None:
        return self._loop

    # -- timers and tasks -------------------------------------------------------------------
    def _arm_timer(self, spec: StateSpec) -> None:
        self._stop_timer()
        if spec.timeout is None or self._loop is None:
            return
        self._timer_gen += 1
        event = Event(spec.timeout.event, {}, self._timer_gen)
        self._timer = self._loop.call_later(spec.timeout.after, self._deliver, event)

    def _stop_timer(self) -> None:
        self._timer_gen += 1
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str, keep: bool = False) -> None:
        self.tasks.spawn(coro, CALL_OWNED if keep else self.state, name)

    async def _finish(self) -> None:
        """The call reached a final state: let hang-up and tickets finish, within a deadline."""
        pending = self.tasks.owned_by(CALL_OWNED)
        if pending:
            _, late = await asyncio.wait(pending, timeout=FINAL_TASKS_DEADLINE)
            for task in late:
                log.error("call %s: %s did not finish at hang-up", self.call_id,
                          task.get_name())

    def _cleanup(self) -> None:
        if self.transcript is not None:
            self.transcript.write("end", state=self.state)
            self.transcript.close()
        self._stop_timer()
        self.keypad.cancel()
        self.watchdog.stop()
        self.runner.speculation.close()
        self.tasks.cancel_all()
        self.runner.ports.brain.forget(self.call_id)
        self._machine.remove(self)
        self.ended = True
