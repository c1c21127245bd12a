"""How events reach the machine: at once when the call is idle, in order when it is not.

An event posted to an idle call (consumer parked, queue empty, nothing being handled) is
handled before `post` returns; events posted while another is being handled wait in the
queue and are handled after it, in the order they were posted.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from engine.call import Call
from engine.clock import run_virtual
from engine.machine import FlowMachine
from engine.scripts.fakes import FakeWorld
from engine.scripts.runner import settle
from flows import load_flow

ROOT = Path(__file__).resolve().parents[2]
MACHINE = FlowMachine(load_flow(ROOT / "flows.yaml"))


async def _listening_call(world: FakeWorld) -> tuple[Call, asyncio.Task]:
    call = Call(MACHINE, world.ports())
    world.post = call.post
    consumer = asyncio.get_running_loop().create_task(call.run())
    call.post("call.started", caller="+15550001111")
    call.post("agent.playback_done")
    await settle(call)
    assert call.state == "listening"
    return call, consumer


def test_an_event_posted_to_an_idle_call_is_handled_before_post_returns() -> None:
    async def main() -> tuple[str, int, int]:
        world = FakeWorld(clock=asyncio.get_running_loop().time)
        world.llm.append({"reply": "We close at five.", "after": "1s"})
        call, consumer = await _listening_call(world)
        call.post("caller.utterance", text="When do you close?", confidence=0.9)
        # No await since the post: the transition and its respond task already exist.
        state, owned, queued = call.state, len(call.tasks.owned_by("thinking")), call.queue.qsize()
        call.post("call.hangup")
        await consumer
        return state, owned, queued

    state, owned, queued = run_virtual(main())
    assert (state, owned, queued) == ("thinking", 2, 0)  # respond and its filler


def test_events_posted_while_one_is_handled_wait_their_turn() -> None:
    async def main() -> tuple[str, list[str], list[str]]:
        world = FakeWorld(clock=asyncio.get_running_loop().time)
        world.llm.append({"reply": "We are open until five on weekdays and noon on Saturday."})
        call, consumer = await _listening_call(world)
        call.post("caller.utterance", text="When are you open?", confidence=0.9)
        await settle(call)
        assert call.state == "speaking"
        before = len(call.trace.entries)
        # barge_in's stop_speaking posts agent.playback_cleared while speech_started is
        # being handled: it must queue behind it, not run inside it.
        call.post("caller.speech_started", duration_ms=2000)
        state = call.state
        queued = [event.name for event in call.queue._queue]  # type: ignore[attr-defined]
        await settle(call)
        handled = [entry.event for entry in call.trace.entries[before:]]
        call.post("call.hangup")
        await consumer
        return state, queued, handled

    state, queued, handled = run_virtual(main())
    assert state == "barge_in"
    assert queued == ["agent.playback_cleared"]
    assert handled[:2] == ["caller.speech_started", "agent.playback_cleared"]


def test_events_before_the_consumer_starts_queue_in_order() -> None:
    async def main() -> list[str]:
        world = FakeWorld(clock=asyncio.get_running_loop().time)
        call = Call(MACHINE, world.ports())
        world.post = call.post
        call.post("call.started")
        call.post("caller.dtmf", digit="0")
        assert call.state == "greeting" and call.queue.qsize() == 2  # nobody consumes yet
        consumer = asyncio.get_running_loop().create_task(call.run())
        await settle(call)
        call.post("call.hangup")
        await consumer
        return [entry.event for entry in call.trace.entries]

    events = run_virtual(main())
    assert events[:2] == ["call.started", "caller.dtmf"]


def test_a_call_ended_by_an_event_handled_at_once_still_finishes_and_cleans_up() -> None:
    async def main() -> tuple[str, bool, int, int]:
        world = FakeWorld(clock=asyncio.get_running_loop().time)
        call, consumer = await _listening_call(world)
        call.post("call.hangup")
        state = call.state  # handled at once: the final state is already reached
        trace = await asyncio.wait_for(consumer, timeout=5)
        return state, call.ended, len(call.tasks), len(trace.entries)

    state, ended, tasks, entries = run_virtual(main())
    assert state == "hung_up" and ended and tasks == 0
    assert MACHINE.model_count == 0
    assert entries >= 3


def test_a_timer_that_fires_on_an_idle_call_is_handled_at_once() -> None:
    async def main() -> list[str]:
        world = FakeWorld(clock=asyncio.get_running_loop().time)
        call, consumer = await _listening_call(world)
        await asyncio.sleep(8.5)  # listening's silence timer is 8 s
        lines = [entry.format() for entry in call.trace.entries]
        call.post("call.hangup")
        await consumer
        return lines

    lines = run_virtual(main())
    assert any("timer.silence" in line and "say reprompt" in line for line in lines)
