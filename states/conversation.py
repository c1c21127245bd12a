"""Behaviours that drive the conversation: ask the brain for a reply, run the tool it chose.

`Respond` streams the brain's reply to the speaker port sentence by sentence and ends in
`agent.reply_started`, `llm.tool_call` or `llm.error`; a reply the call's speculator began
at the caller's pause on the same words is taken over instead of asking again; `RunTool`
runs one `ToolCall` through the tools port and gives the brain its outcome under the same
id (unless the flow itself asked, with `call_tool`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from engine.effect import Effect, Runtime
from engine.ports import Sentence, ToolCall, Turn
from flows.signatures import StepContext, action


@dataclass(frozen=True)
class Respond(Effect):
    """Ask the brain for the next reply (text streams to speech; may end in a tool call)."""

    kind = "respond"

    def carry_out(self, runtime: Runtime) -> None:
        call = runtime.call
        turn = Turn(call_id=call.call_id, caller=call.caller, text=call.last_utterance,
                    heard=tuple(s.text for s in call.playback.heard), mark=call.timeline.mark,
                    joins=call.last_joins)
        speculated = runtime.speculation.take(turn)  # begun at the caller's pause, same words
        runtime.spawn(_respond(runtime, turn, speculated), "respond")


async def _respond(runtime: Runtime, turn: Turn, speculated: Any) -> None:
    call = runtime.call
    stream = speculated.outputs() if speculated else runtime.ports.brain.respond(turn)
    hold = f"reply:{call.next_id()}"
    call.playback.hold(hold)
    spoke = False
    said: list[str] = []
    try:
        async for item in stream:
            if isinstance(item, Sentence):
                speech_id = call.playback.begin(item.text)
                said.append(item.text)
                call.last_reply = " ".join(said)
                if not spoke:
                    spoke = True
                    call.timeline.mark("first_sentence")
                    call.post("agent.reply_started", text=item.text)
                await runtime.ports.speaker.say(speech_id, item.text)
            elif isinstance(item, ToolCall):
                call.post("llm.tool_call", name=item.name, args=item.args, id=item.id)
                break
        else:
            if not spoke:
                call.post("llm.error", error="the brain returned an empty reply")
    except asyncio.CancelledError:
        call.playback.release(hold)
        raise
    except Exception as exc:
        runtime.failed("llm.error", "brain", exc)
    if call.playback.release(hold) and spoke:
        # Everything was heard before the reply finished streaming.
        call.post("agent.playback_done", reply_done=True)


@dataclass(frozen=True)
class RunTool(Effect):
    """Run a tool call (the brain's, or the flow's own with `from_flow`: the brain is not
    told)."""

    tool: ToolCall = field(hash=False)
    from_flow: bool = False
    kind = "run_tool"

    @property
    def name(self) -> str:
        return self.tool.name

    def describe(self) -> str:
        return f"run_tool {self.tool.name}"

    def carry_out(self, runtime: Runtime) -> None:
        runtime.spawn(self._run(runtime), f"tool:{self.tool.name}")

    async def _run(self, runtime: Runtime) -> None:
        tool, call = self.tool, runtime.call
        outcome = await runtime.tool(tool.name, tool.args)
        if not self.from_flow:  # the brain asked for it: it gets the result, by its id
            runtime.ports.brain.tool_result(call.call_id, tool, outcome)
        if outcome.ok:
            call.post("tool.done", name=tool.name, result=outcome.result)
        else:
            call.post("tool.failed", name=tool.name, error=outcome.error)


@action("respond")
def respond(ctx: StepContext, _: Any) -> list[Effect]:
    """Ask the brain for the next reply to what the caller said."""
    return [Respond()]


@action("run_tool")
def run_tool(ctx: StepContext, _: Any) -> list[Effect]:
    """Run the tool named in the `llm.tool_call` event that led here."""
    args = ctx.data.get("args") or {}
    return [RunTool(ToolCall(str(ctx.data.get("name", "")), dict(args),
                             str(ctx.data.get("id", ""))))]
