"""Behaviours that control the current state's timer beyond its automatic arming on entry."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.effect import CallControl, ControlEffect, Effect
from flows.signatures import StepContext, action


@dataclass(frozen=True)
class ArmTimer(ControlEffect):
    """(Re)arm the current state's timer."""

    kind = "arm_timer"

    def apply(self, call: CallControl) -> None:
        call.arm_timer()


@dataclass(frozen=True)
class StopTimer(ControlEffect):
    """Stop the current state's timer."""

    kind = "stop_timer"

    def apply(self, call: CallControl) -> None:
        call.stop_timer()


@action("restart_timer")
def restart_timer(ctx: StepContext, _: Any) -> list[Effect]:
    """Start the state's timer again from zero."""
    return [ArmTimer()]


@action("stop_timer")
def stop_timer(ctx: StepContext, _: Any) -> list[Effect]:
    """Stop the state's timer until it is restarted or the state is entered again."""
    return [StopTimer()]
