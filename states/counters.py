"""Behaviours that count retries: `count` adds one, `reset` goes back to zero."""

from __future__ import annotations

from typing import Any

from engine.effects import Effect, SetCounter
from states.registry import ArgKind, StepContext, action


@action("count", ArgKind.COUNTER)
def count(ctx: StepContext, counter: Any) -> list[Effect]:
    """Add one to a counter."""
    return [SetCounter(counter, ctx.counters.get(counter, 0) + 1)]


@action("reset", ArgKind.COUNTER)
def reset(ctx: StepContext, counter: Any) -> list[Effect]:
    """Set a counter back to zero."""
    return [SetCounter(counter, 0)]
