"""The one machine every call shares binds nothing to a call: joining it and leaving it
leaves no reference from the call to itself, so an ended call is freed by reference counting
at once instead of waiting as a cycle for the collector (a burst's dead calls then never pile
up in the heap), and it still answers every event by name."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path
from typing import Any

from engine.machine import FlowMachine
from flows import load_flow

ROOT = Path(__file__).resolve().parents[2]
MACHINE = FlowMachine(load_flow(ROOT / "flows.yaml"))


class Model:
    def __init__(self) -> None:
        self.entered: list[str] = []

    def guards_hold(self, spec: Any, data: dict[str, Any]) -> bool:
        return True

    def transition_taken(self, spec: Any, data: dict[str, Any]) -> None:
        pass

    def state_entered(self, spec: Any, event: str, data: dict[str, Any]) -> None:
        self.entered.append(spec.name)

    def state_exited(self, spec: Any, dest: str | None) -> None:
        pass


def test_a_model_that_left_the_machine_is_freed_without_the_cycle_collector() -> None:
    model = Model()
    MACHINE.add(model)
    assert set(vars(model)) == {"entered", "state"}  # nothing bound but its state
    MACHINE.remove(model)
    gone = weakref.ref(model)
    gc.disable()
    try:
        del model
        assert gone() is None
    finally:
        gc.enable()


def test_events_are_fired_by_name_for_one_model_at_a_time() -> None:
    first, second = Model(), Model()
    MACHINE.add(first)
    MACHINE.add(second)
    try:
        initial = first.state
        event = next(t.event for t in MACHINE.flow.transitions if t.source == initial
                     and t.dest not in (None, initial))
        assert MACHINE.fire(first, event) is True
        assert first.state != initial and second.state == initial
        assert MACHINE.fire(first, "no.such.event") is False
        assert MACHINE.model_count == 2
    finally:
        MACHINE.remove(first)
        MACHINE.remove(second)
    assert MACHINE.model_count == 0
