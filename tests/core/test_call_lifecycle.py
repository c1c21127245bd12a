"""The runtime around the machine: cleanup after many calls, stale timers, task ownership."""

from __future__ import annotations

import asyncio
import gc
import weakref
from pathlib import Path

from engine.call import Call
from engine.clock import run_virtual
from engine.machine import FlowMachine
from engine.scripts.fakes import FakeWorld
from engine.scripts.runner import settle
from flows import Flow, load_flow
from flows.events import Event

ROOT = Path(__file__).resolve().parents[2]


def _flow() -> Flow:
    return load_flow(ROOT / "flows.yaml")


def _pending_timers(loop: asyncio.AbstractEventLoop) -> int:
    return sum(1 for handle in loop._scheduled if not handle.cancelled())  # type: ignore[attr-defined]


def test_ten_thousand_sequential_calls_leave_nothing_behind() -> None:
    machine = FlowMachine(_flow())
    refs: list[weakref.ref[Call]] = []

    async def one_call(index: int) -> None:
        world = FakeWorld(clock=asyncio.get_running_loop().time)
        call = Call(machine, world.ports(), call_id=f"c{index}")
        world.post = call.post
        refs.append(weakref.ref(call))
        task = asyncio.get_running_loop().create_task(call.run())
        call.post("call.started", caller="+15550001111")
        call.post("agent.playback_done")
        call.post("caller.dtmf", digit="0")
        call.post("call.hangup")
        await task
        assert call.state == "hung_up" and call.ended

    async def main() -> tuple[int, int, int]:
        for index in range(10_000):
            await one_call(index)
        await settle_loop()
        loop = asyncio.get_running_loop()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        return machine.model_count, len(others), _pending_timers(loop)

    async def settle_loop() -> None:
        for _ in range(5):
            await asyncio.sleep(0)

    models, tasks, timers = run_virtual(main())
    gc.collect()
    assert (models, tasks, timers) == (0, 0, 0)
    assert len(refs) == 10_000
    assert sum(1 for ref in refs if ref() is not None) == 0


def test_stale_timer_event_is_dropped() -> None:
    machine = FlowMachine(_flow())

    async def main() -> list[str]:
        world = FakeWorld(clock=asyncio.get_running_loop().time)
        call = Call(machine, world.ports())
        world.post = call.post
        consumer = asyncio.get_running_loop().create_task(call.run())
        call.post("call.started")
        call.post("agent.playback_done")
        await settle(call)
        stale_gen = call._timer_gen
        call.post("caller.transcript", text="I was")  # restart_timer: a new generation
        await settle(call)
        call.queue.put_nowait(Event("timer.silence", {}, stale_gen))
        await settle(call)
        call.post("call.hangup")
        await consumer
        return [entry.format() for entry in call.trace.entries]

    lines = run_virtual(main())
    assert any("timer.silence" in line and "(stale timer)" in line for line in lines)
    assert not any("say reprompt" in line for line in lines)


def test_leaving_a_state_cancels_its_tasks_and_keep_tasks_hands_them_over() -> None:
    machine = FlowMachine(_flow())

    async def main() -> tuple[bool, bool]:
        world = FakeWorld(clock=asyncio.get_running_loop().time)
        world.llm.append({"reply": "One. Two.", "after": "1s"})
        call = Call(machine, world.ports())
        world.post = call.post
        consumer = asyncio.get_running_loop().create_task(call.run())
        call.post("call.started")
        call.post("agent.playback_done")
        call.post("caller.utterance", text="hi", confidence=0.9)
        await settle(call)
        thinking_tasks = call.tasks.owned_by("thinking")
        # the reply and its filler (flows.yaml: a filler after 4 s of a slow reply)
        assert len(thinking_tasks) == 2 and call.state == "thinking"
        call.post("call.hangup")
        await consumer
        await asyncio.sleep(0)
        return all(t.cancelled() for t in thinking_tasks), len(call.tasks) == 0

    cancelled, empty = run_virtual(main())
    assert cancelled and empty
