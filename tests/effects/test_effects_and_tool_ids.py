"""Effects carry themselves out through the ports (the runner knows no effect type), and one
tool call keeps its id from the brain's stream to `Brain.tool_result`, which names the call."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.local.brain.state import CallStates
from engine.call import Call
from engine.clock import run_virtual
from engine.effect import Effect, Runtime
from engine.machine import FlowMachine
from engine.ports import BrainOutput, ToolCall, ToolOutcome, Turn
from engine.scripts.fakes import FakeWorld
from engine.scripts.runner import settle
from flows import load_flow

ROOT = Path(__file__).resolve().parents[2]
MACHINE = FlowMachine(load_flow(ROOT / "flows.yaml"))


@dataclass(frozen=True)
class Chime(Effect):
    """An effect no part of the engine has heard of."""

    text: str
    kind = "chime"

    def carry_out(self, runtime: Runtime) -> None:
        speech_id = runtime.call.playback.begin(self.text)
        runtime.spawn(runtime.say(speech_id, self.text), "chime")


@dataclass(frozen=True)
class Forgotten(Effect):
    kind = "forgotten"


class AsksForATool:
    """A brain that asks for one tool with its own id and notes what comes back."""

    def __init__(self) -> None:
        self.results: list[tuple[str, ToolCall, ToolOutcome]] = []

    async def respond(self, turn: Turn) -> AsyncIterator[BrainOutput]:
        if not self.results:
            yield ToolCall("check_appointment", {"phone": turn.caller}, "toolu_42")

    def tool_result(self, call_id: str, tool: ToolCall, outcome: ToolOutcome) -> None:
        self.results.append((call_id, tool, outcome))

    def forget(self, call_id: str) -> None:
        return None


async def _listening(world: FakeWorld, brain: Any = None) -> Call:
    ports = world.ports()
    if brain is not None:
        ports.brain = brain
    call = Call(MACHINE, ports, call_id="CA-fx")
    world.post = call.post
    asyncio.get_running_loop().create_task(call.run())
    call.post("call.started", caller="+15550001111")
    call.post("agent.playback_done")
    await settle(call)
    return call


def test_a_new_effect_is_carried_out_without_the_runner_knowing_it() -> None:
    async def main() -> list[Any]:
        world = FakeWorld(clock=asyncio.get_running_loop().time)
        call = await _listening(world)
        call.runner.execute(Chime("ding"))
        await settle(call)
        call.post("call.hangup")
        await settle(call)
        return [r.detail for r in world.records if r.kind == "said"]

    assert run_virtual(main())[-1] == "ding"


def test_an_effect_that_does_not_say_how_it_is_carried_out_is_a_clear_error() -> None:
    async def main() -> None:
        call = await _listening(FakeWorld(clock=asyncio.get_running_loop().time))
        try:
            call.runner.execute(Forgotten())
        finally:
            call.post("call.hangup")
            await settle(call)

    with pytest.raises(NotImplementedError, match="Forgotten does not say how it is carried"):
        run_virtual(main())


def test_the_tool_call_id_goes_from_the_brain_to_its_result() -> None:
    async def main() -> tuple[AsksForATool, list[dict[str, Any]]]:
        world = FakeWorld(clock=asyncio.get_running_loop().time)
        world.add_tools({"check_appointment": {"result": {"appointments": []}}})
        brain = AsksForATool()
        call = await _listening(world, brain)
        call.post("caller.utterance", text="When is my appointment?", confidence=0.9)
        await settle(call)
        await asyncio.sleep(1)
        await settle(call)
        asked = [e.data for e in call.trace.entries if e.event == "llm.tool_call"]
        call.post("call.hangup")
        await settle(call)
        return brain, asked

    brain, asked = run_virtual(main())
    assert asked == [{"name": "check_appointment", "args": {"phone": "+15550001111"},
                      "id": "toolu_42"}]
    [(call_id, tool, outcome)] = brain.results
    assert (call_id, tool) == ("CA-fx", ToolCall("check_appointment", {"phone": "+15550001111"},
                                                 "toolu_42"))
    assert outcome.ok


def test_the_rules_brain_finds_a_result_in_the_call_it_names() -> None:
    states = CallStates()
    first, second = states.get("CA-a"), states.get("CA-b")
    first.pending = ToolCall("check_appointment", {}, "rules-1")
    second.pending = ToolCall("check_appointment", {}, "rules-2")
    # The same tool, pending in two calls: the call id decides, not the first match.
    assert states.waiting_for("CA-b", ToolCall("check_appointment", {})) is second
    assert states.waiting_for("CA-b", ToolCall("check_appointment", {}, "rules-2")) is second
    assert states.waiting_for("CA-b", ToolCall("check_appointment", {}, "rules-1")) is None
    assert states.waiting_for("CA-zz", ToolCall("check_appointment", {})) is None
