"""`EffectRunner`: carries out a call's effects through the ports, as call-owned tasks.

It is the only place that touches adapters. Each effect becomes a task owned by the state
the call is in once the event has run; results come back as events on the call's queue
(`agent.reply_started`, `llm.tool_call`, `tool.done`, `transfer.failed`, …). A failing
adapter becomes an error event the flow handles: a call never dies silently.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from engine.effects import (
    Effect,
    Filler,
    HangUp,
    Repeat,
    Respond,
    RunTool,
    Say,
    StopSpeaking,
    TakeMessage,
    Transfer,
)
from engine.ports import NoHumanToTransferTo, Ports, Sentence, ToolCall, ToolOutcome, Turn
from engine.ticket_summary import ticket_summary

if TYPE_CHECKING:
    from engine.call import Call

log = logging.getLogger("dialflow.runner")
ESCALATION_TOOL = "escalate_to_human"


class EffectRunner:
    def __init__(self, call: Call, ports: Ports):
        self.call = call
        self.ports = ports
        self._last_tool: ToolCall | None = None
        self._interruptions = 0  # stop_speaking count: a filler started before one ends

    def execute(self, effect: Effect) -> None:
        call = self.call
        if isinstance(effect, Say):
            if not isinstance(effect, Repeat):
                call.last_said = effect.text
            speech_id = call.playback.begin(effect.text)
            call.spawn(self._say(speech_id, effect.text), f"say:{effect.prompt}")
        elif isinstance(effect, Respond):
            call.spawn(self._respond(), "respond")
        elif isinstance(effect, RunTool):
            call.spawn(self._run_tool(effect), f"tool:{effect.name}")
        elif isinstance(effect, Filler):
            call.spawn(self._filler(effect, call.state, self._interruptions),
                       f"filler:{effect.prompt}")
        elif isinstance(effect, StopSpeaking):
            self._interruptions += 1
            self.ports.speaker.clear()
            call.playback.clear()
            call.post("agent.playback_cleared")
        elif isinstance(effect, Transfer):
            call.spawn(self._transfer(effect.number), "transfer")
        elif isinstance(effect, TakeMessage):
            call.spawn(self._take_message(effect.reason), "take_message", keep=True)
        elif isinstance(effect, HangUp):
            call.spawn(self._hang_up(), "hang_up", keep=True)
        else:
            raise TypeError(f"no runner for effect {effect!r}")

    async def _say(self, speech_id: str, text: str) -> None:
        try:
            await self.ports.speaker.say(speech_id, text)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self._failed("tts.error", "speaker", exc)

    async def _filler(self, effect: Filler, state: str, interruptions: int) -> None:
        """Until the state is left (its result came) or the caller cuts in."""
        await asyncio.sleep(effect.after)
        while self.call.state == state and self._interruptions == interruptions:
            speech_id = self.call.playback.begin(effect.text)
            await self._say(speech_id, effect.text)
            if effect.every is None:
                return
            await asyncio.sleep(effect.every)

    async def _respond(self) -> None:
        call = self.call
        turn = Turn(call_id=call.call_id, caller=call.caller, text=call.last_utterance,
                    heard=tuple(s.text for s in call.playback.heard), mark=call.timeline.mark)
        hold = f"reply:{call.next_id()}"
        call.playback.hold(hold)
        spoke = False
        said: list[str] = []
        try:
            async for item in self.ports.brain.respond(turn):
                if isinstance(item, Sentence):
                    speech_id = call.playback.begin(item.text)
                    said.append(item.text)
                    call.last_reply = " ".join(said)
                    if not spoke:
                        spoke = True
                        call.timeline.mark("first_sentence")
                        call.post("agent.reply_started", text=item.text)
                    await self.ports.speaker.say(speech_id, item.text)
                elif isinstance(item, ToolCall):
                    self._last_tool = item
                    call.post("llm.tool_call", name=item.name, args=item.args, id=item.call_id)
                    break
            else:
                if not spoke:
                    call.post("llm.error", error="the brain returned an empty reply")
        except asyncio.CancelledError:
            call.playback.release(hold)
            raise
        except Exception as exc:
            self._failed("llm.error", "brain", exc)
        if call.playback.release(hold) and spoke:
            # Everything was heard before the reply finished streaming.
            call.post("agent.playback_done", reply_done=True)

    async def _run_tool(self, effect: RunTool) -> None:
        outcome = await self._tool(effect.name, effect.args)
        if not effect.from_flow:  # the brain asked for it: it gets the result
            call_ = self._last_tool or ToolCall(effect.name, effect.args, effect.call_id)
            self.ports.brain.tool_result(call_, outcome)
        if outcome.ok:
            self.call.post("tool.done", name=effect.name, result=outcome.result)
        else:
            self.call.post("tool.failed", name=effect.name, error=outcome.error)

    async def _tool(self, name: str, args: dict) -> ToolOutcome:
        try:
            return await self.ports.tools.run(name, args, self.call.call_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("call %s: tool %s raised", self.call.call_id, name)
            return ToolOutcome(ok=False, error=f"{type(exc).__name__}: {exc}")

    async def _transfer(self, number: str) -> None:
        try:
            await self.ports.telephony.transfer(number)
        except asyncio.CancelledError:
            raise
        except NoHumanToTransferTo as exc:  # expected in local calls: the flow takes a message
            log.info("call %s: no human to transfer to in a local call (%s)", self.call.call_id,
                     exc)
            self.call.post("transfer.failed", error=f"{type(exc).__name__}: {exc}")
            return
        except Exception as exc:
            self._failed("transfer.failed", "telephony", exc)
            return
        self.call.post("transfer.done")

    async def _take_message(self, reason: str) -> None:
        call = self.call
        summary = ticket_summary(reason, call.caller, call.vars, call.conversation)
        outcome = await self._tool(ESCALATION_TOOL, {"reason": reason, "summary": summary})
        if not outcome.ok:
            log.error("call %s: could not take a message: %s", self.call.call_id, outcome.error)

    async def _hang_up(self) -> None:
        try:
            await self.ports.telephony.hang_up()
        except Exception:
            log.exception("call %s: hang-up failed", self.call.call_id)

    def _failed(self, event: str, component: str, exc: Exception) -> None:
        log.error("call %s: %s failed: %s: %s", self.call.call_id, component,
                  type(exc).__name__, exc)
        self.call.post(event, error=f"{type(exc).__name__}: {exc}")
