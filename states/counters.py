"""Behaviours that count retries: `count` adds one, `reset` goes back to zero."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.effect import CallControl, ControlEffect, Effect
from flows.signatures import ArgKind, StepContext, action


@dataclass(frozen=True)
class SetCounter(ControlEffect):
    """Set a per-call counter (at once: later guards of the event read it)."""

    name: str
    value: int
    kind = "counter"

    def describe(self) -> str:
        return f"{self.name}={self.value}"

    def apply(self, call: CallControl) -> None:
        call.counters[self.name] = self.value


@action("count", ArgKind.COUNTER)
def count(ctx: StepContext, counter: Any) -> list[Effect]:
    """Add one to a counter."""
    return [SetCounter(counter, ctx.counters.get(counter, 0) + 1)]


@action("reset", ArgKind.COUNTER)
def reset(ctx: StepContext, counter: Any) -> list[Effect]:
    """Set a counter back to zero."""
    return [SetCounter(counter, 0)]
