"""`FlowMachine`: the one `transitions.Machine` built from a `Flow`, shared by every call.

Calls join with `add` and leave with `remove`; `fire(call, event)` runs one event for one
call. Joining binds nothing to the call (the library would bind a trigger, a `may_` and an
`is_<state>` callable per event and state: ~300 objects per call, each holding the call, so
every ended call became a reference cycle left for the cycle collector). Callbacks are
closures over the flow's own data (never names resolved from YAML); they hand control to the
model (a `FlowModel`: `engine/call.py`'s `Call`), which records effects. Synchronous only: no
AsyncMachine, no queued mode, no Timeout states.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any, Protocol

from transitions import EventData, Machine, State
from transitions.core import listify

from flows.model import Flow, StateSpec, TransitionSpec


class FlowModel(Protocol):
    """What the machine's callbacks hand control to (one per call)."""

    def guards_hold(self, spec: TransitionSpec, data: dict[str, Any]) -> bool: ...

    def transition_taken(self, spec: TransitionSpec, data: dict[str, Any]) -> None: ...

    def state_entered(self, spec: StateSpec, event: str, data: dict[str, Any]) -> None: ...

    def state_exited(self, spec: StateSpec, dest: str | None) -> None: ...

# An event a state does not handle is normal (a late playback report, a key press during a
# transfer); the call's trace records it, so the library's per-event warning is noise.
logging.getLogger("transitions.core").setLevel(logging.ERROR)


class _SharedMachine(Machine):  # type: ignore[misc]
    """A `Machine` that keeps its models' state and binds no convenience callables to them."""

    def add_model(self, model: Any, initial: Any = None) -> None:
        for each in listify(model):
            if each not in self.models:
                self.set_state(self.initial if initial is None else initial, model=each)
                self.models.append(each)


class FlowMachine:
    """The compiled flow. Cheap to share: per-call data lives on the `Call` model."""

    def __init__(self, flow: Flow):
        self.flow = flow
        states = [
            State(spec.name, on_enter=[partial(_entered, spec)], on_exit=[partial(_exited, spec)],
                  final=spec.final)
            for spec in flow.states.values()
        ]
        self.machine = _SharedMachine(model=None, states=states, initial=flow.initial,
                               auto_transitions=False, ignore_invalid_triggers=True,
                               send_event=True, queued=False)
        for spec in flow.transitions:
            self.machine.add_transition(
                trigger=spec.event, source=spec.source, dest=spec.dest,
                conditions=[partial(_guards_hold, spec)],
                before=[partial(_before, spec)],
            )

    def add(self, call: FlowModel) -> None:
        self.machine.add_model(call)

    def remove(self, call: FlowModel) -> None:
        self.machine.remove_model(call)

    def fire(self, call: FlowModel, event: str, **data: Any) -> bool:
        """Run `event` for `call`; True if a transition was taken. An event the flow never
        names is ignored (False), like one its current state does not handle."""
        handler = self.machine.events.get(event)
        return bool(handler.trigger(call, **data)) if handler is not None else False

    @property
    def model_count(self) -> int:
        return len(self.machine.models)


def _model(event_data: EventData) -> FlowModel:
    return event_data.model


def _guards_hold(spec: TransitionSpec, event_data: EventData) -> bool:
    return _model(event_data).guards_hold(spec, event_data.kwargs)


def _before(spec: TransitionSpec, event_data: EventData) -> None:
    _model(event_data).transition_taken(spec, event_data.kwargs)


def _entered(spec: StateSpec, event_data: EventData) -> None:
    _model(event_data).state_entered(spec, _event_name(event_data), event_data.kwargs)


def _exited(spec: StateSpec, event_data: EventData) -> None:
    transition: Any = event_data.transition
    _model(event_data).state_exited(spec, transition.dest if transition else None)


def _event_name(event_data: EventData) -> str:
    return event_data.event.name if event_data.event else ""
