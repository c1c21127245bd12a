"""Behaviours that act on the phone call itself: transfer, take a message, hang up; their
effects and how the telephony and tools ports carry them out."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from engine.effect import Effect, Runtime
from engine.ports import NoHumanToTransferTo
from engine.ticket_summary import ticket_summary
from flows.signatures import ArgKind, StepContext, action
from flows.templates import is_templated, render
from states.variables import template_values

log = logging.getLogger("dialflow.runner")
ESCALATION_TOOL = "escalate_to_human"


@dataclass(frozen=True)
class Transfer(Effect):
    """Hand the call to a human at `number`; `transfer.done` or `transfer.failed` follows."""

    number: str
    kind = "transfer"

    def describe(self) -> str:
        return "transfer"

    def carry_out(self, runtime: Runtime) -> None:
        runtime.spawn(self._run(runtime), "transfer")

    async def _run(self, runtime: Runtime) -> None:
        call = runtime.call
        try:
            await runtime.ports.telephony.transfer(self.number)
        except asyncio.CancelledError:
            raise
        except NoHumanToTransferTo as exc:  # expected in local calls: the flow takes a message
            log.info("call %s: no human to transfer to in a local call (%s)", call.call_id, exc)
            call.post("transfer.failed", error=f"{type(exc).__name__}: {exc}")
            return
        except Exception as exc:
            runtime.failed("transfer.failed", "telephony", exc)
            return
        call.post("transfer.done")


@dataclass(frozen=True)
class TakeMessage(Effect):
    """Create a ticket (the escalation tool) so a human calls back; it outlives the state."""

    reason: str
    kind = "take_message"

    def carry_out(self, runtime: Runtime) -> None:
        runtime.spawn(self._run(runtime), "take_message", keep=True)

    async def _run(self, runtime: Runtime) -> None:
        call = runtime.call
        summary = ticket_summary(self.reason, call.caller, call.vars, call.conversation)
        outcome = await runtime.tool(ESCALATION_TOOL, {"reason": self.reason, "summary": summary})
        if not outcome.ok:
            log.error("call %s: could not take a message: %s", call.call_id, outcome.error)


@dataclass(frozen=True)
class HangUp(Effect):
    """End the phone call; it outlives the state."""

    kind = "hang_up"

    def carry_out(self, runtime: Runtime) -> None:
        runtime.spawn(self._run(runtime), "hang_up", keep=True)

    async def _run(self, runtime: Runtime) -> None:
        try:
            await runtime.ports.telephony.hang_up()
        except Exception:
            log.exception("call %s: hang-up failed", runtime.call.call_id)


@action("transfer")
def transfer(ctx: StepContext, _: Any) -> list[Effect]:
    """Hand the call to the human at settings.escalation.number."""
    return [Transfer(number=ctx.flow.settings.escalation_number)]


@action("take_message", ArgKind.OPTIONAL_TEXT)
def take_message(ctx: StepContext, reason: Any) -> list[Effect]:
    """Create a ticket so a human calls the caller back; the reason may be templated like a
    prompt (`{take_message: "after hours: {vars.topic}"}`)."""
    text = str(reason or ctx.event)
    if is_templated(text):
        text = " ".join(render(text, template_values(ctx)).split())
    return [TakeMessage(reason=text)]


@action("hang_up")
def hang_up(ctx: StepContext, _: Any) -> list[Effect]:
    """End the phone call."""
    return [HangUp()]
