"""The `warm_transfer` behaviour: ring a human who first hears a short summary (a whisper),
and hear back how the ringing ended, so the flow can bring the caller back to the agent.

    transferring:
      enter: [{warm_transfer: {whisper: transfer_whisper, ring: 25s}}]
      timeout: {after: 60s, event: timer.transfer}
      on:
        transfer.completed: transferred     # the caller is in the conference with the human
        transfer.no_answer: {to: message_name, do: [{say: nobody_free}]}
        ...

The whisper is the prompt (templated like any prompt: `{business.name}`, `{caller}`) followed
by the reason (`vars.transfer_reason` or `vars.reason`), the name the caller gave
(`vars.caller_name` or `vars.name`) and the caller's latest words, bounded. The telephony port
places it (Twilio: the human's leg rings while the caller stays on the agent's stream,
adapters/twilio/warm.py); outcomes come back as `transfer.completed` (connected), `transfer.busy`,
`transfer.no_answer`, `transfer.canceled` or `transfer.failed` (also when the port refuses
at once); `transfer.answered` comes first when the human picks up (the flow stays: leaving
the state then would leave the human with nobody). While it rings the caller hears
`settings.hold_music` (the speaker port loops it); it stops when the state is left, when
the agent speaks again, or when the adapter reports the outcome — whichever comes first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from engine.effect import Effect, Runtime
from engine.ports import NoHumanToTransferTo, WarmDial
from engine.ticket_summary import NAME_VARS
from flows.durations import parse_duration
from flows.signatures import ArgKind, StepContext, action
from flows.templates import is_templated, render
from states.variables import template_values

log = logging.getLogger("dialflow.runner")
DEFAULT_RING = "25s"
MAX_WHISPER = 400  # characters: a whisper is heard by a human waiting to talk
ASKED_TURNS = 2  # the caller's latest utterances the human hears
REASON_VARS = ("transfer_reason", "reason")  # call variables that say why, if set


def whisper_text(intro: str, variables: Mapping[str, Any],
                 conversation: Sequence[tuple[str, str]], limit: int = MAX_WHISPER) -> str:
    """"<intro> Reason: <why>. The caller's name is <name>. They said: <latest words>."
    within `limit` (the reason and name from call variables, when set)."""
    parts = [" ".join(intro.split())]
    reason = next((str(variables[v]) for v in REASON_VARS if variables.get(v)), "")
    if reason:
        parts.append(f"Reason: {' '.join(reason.split()).rstrip('.')}.")
    name = next((str(variables[v]) for v in NAME_VARS if variables.get(v)), "")
    if name:
        parts.append(f"The caller's name is {' '.join(name.split())}.")
    said = [" ".join(text.split()) for who, text in conversation if who == "caller"
            and text.strip()][-ASKED_TURNS:]
    if said:
        parts.append("They said: " + " ... ".join(said))
    text = " ".join(p for p in parts if p)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


@dataclass(frozen=True)
class WarmTransfer(Effect):
    """Ring `number` with a whisper; Twilio's report arrives later as a `transfer.*` event.
    A refusal by the port (no Twilio, a bad number) is `transfer.failed` at once."""

    number: str
    intro: str
    ring_seconds: int
    hold_music: str = ""
    kind = "warm_transfer"

    def describe(self) -> str:
        return f"warm_transfer ring {self.ring_seconds}s"

    def carry_out(self, runtime: Runtime) -> None:
        runtime.spawn(self._run(runtime), "warm_transfer")

    async def _run(self, runtime: Runtime) -> None:
        call = runtime.call
        whisper = whisper_text(self.intro, call.vars, call.conversation)
        speaker = runtime.ports.speaker
        speaker.hold(self.hold_music)
        try:
            await runtime.ports.telephony.transfer(self.number, WarmDial(
                whisper, self.ring_seconds, self.hold_music))
            await asyncio.get_running_loop().create_future()  # rings until the state is left
        except asyncio.CancelledError:  # the state was left: a human still rung is not wanted
            stop_ringing = getattr(runtime.ports.telephony, "stop_ringing", None)
            if stop_ringing is not None:  # optional on the port (Twilio's has it)
                stop_ringing()
            raise
        except NoHumanToTransferTo as exc:  # a local call: the flow takes a message
            speaker.stop_hold()
            log.info("call %s: no human to transfer to in a local call (%s)", call.call_id, exc)
            call.post("transfer.failed", error=f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            speaker.stop_hold()
            runtime.failed("transfer.failed", "telephony", exc)
        finally:
            speaker.stop_hold()


@action("warm_transfer", ArgKind.WARM_TRANSFER)
def warm_transfer(ctx: StepContext, spec: Any) -> list[Effect]:
    """Ring settings.escalation.number; the human hears a whisper first; busy, no answer and
    the rest come back as transfer.* events."""
    spec = spec or {}
    prompt = ctx.flow.prompts[spec["whisper"]]
    intro = render(prompt, template_values(ctx)) if is_templated(prompt) else prompt
    ring = round(parse_duration(spec.get("ring", DEFAULT_RING)))
    return [WarmTransfer(number=ctx.flow.settings.escalation_number, intro=intro,
                         ring_seconds=ring, hold_music=ctx.flow.settings.hold_music)]
