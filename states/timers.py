"""Behaviours that control the current state's timer beyond its automatic arming on entry."""

from __future__ import annotations

from typing import Any

from engine.effects import ArmTimer, Effect, StopTimer
from states.registry import StepContext, action


@action("restart_timer")
def restart_timer(ctx: StepContext, _: Any) -> list[Effect]:
    """Start the state's timer again from zero."""
    return [ArmTimer()]


@action("stop_timer")
def stop_timer(ctx: StepContext, _: Any) -> list[Effect]:
    """Stop the state's timer until it is restarted or the state is entered again."""
    return [StopTimer()]
