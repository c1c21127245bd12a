"""Behaviours that act on the phone call itself: transfer, take a message, hang up."""

from __future__ import annotations

from typing import Any

from engine.effects import Effect, HangUp, TakeMessage, Transfer
from states.registry import ArgKind, StepContext, action


@action("transfer")
def transfer(ctx: StepContext, _: Any) -> list[Effect]:
    """Hand the call to the human at settings.escalation.number."""
    return [Transfer(number=ctx.flow.settings.escalation_number)]


@action("take_message", ArgKind.OPTIONAL_TEXT)
def take_message(ctx: StepContext, reason: Any) -> list[Effect]:
    """Create a ticket so a human calls the caller back."""
    return [TakeMessage(reason=str(reason or ctx.event))]


@action("hang_up")
def hang_up(ctx: StepContext, _: Any) -> list[Effect]:
    """End the phone call."""
    return [HangUp()]
