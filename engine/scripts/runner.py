"""Run an event script on a virtual-time loop and compare what happened with `expect:`.

Each step waits until its time (timers due by then fire first), adds its fake answers,
posts its event, lets the call settle, then checks its expectations against everything that
happened since the previous step. The result carries the trace and every mismatch with the
script's line.

A script with `voice:` steps runs the caller's speech events through the call's barge-in gate
(`engine/turns/barge_in.py`), as the media stream does, with a fake audio that records
pause, clear and resume; other scripts post their events to the call directly. A `guess:`
step hands the STT's words at a pause to the call's speculator (`voice: resumed` withdraws
it), as the STT session does; nothing of it reaches the trace unless a turn commits.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

from engine.call import Call
from engine.clock import run_virtual
from engine.machine import FlowMachine
from engine.scripts.expect import Window, check_step
from engine.scripts.fakes import FakeAudio, FakeWorld
from engine.scripts.format import Script, ScriptInvalid, ScriptStep
from engine.scripts.validate import check_refs
from engine.trace import Trace
from engine.turns.barge_in import BargeInGate
from flows import Flow, load_flow
from states.time_guards import local_clock

SETTLE_ROUNDS = 8
DEFAULT_CALLER = "+15550001111"
DEFAULT_CLOCK = "2026-12-01T10:00"  # a Tuesday morning: a script without `clock:` is open


@dataclass
class ScriptResult:
    script: Script
    trace: Trace
    failures: list[str] = field(default_factory=list)
    marks: list[tuple[int, ScriptStep]] = field(default_factory=list)  # trace index per step
    world: FakeWorld | None = None

    @property
    def passed(self) -> bool:
        return not self.failures


def run_script(script: Script, flow: Flow | None = None) -> ScriptResult:
    """Run `script` against `flow` (default: the script's flow file). Raises
    `ScriptInvalid` when the script names a tool, state, prompt or counter the flow lacks."""
    flow = flow or load_flow(script.flow_path)
    problems = check_refs(script, flow)
    if problems:
        raise ScriptInvalid("\n".join(problems))
    return run_virtual(_drive(script, FlowMachine(flow)))


async def settle(call: Call) -> None:
    """Let every event and task due at the current instant run to completion."""
    quiet = 0
    while quiet < SETTLE_ROUNDS:
        await asyncio.sleep(0)
        quiet = quiet + 1 if call.queue.empty() or call.ended else 0


async def _drive(script: Script, machine: FlowMachine) -> ScriptResult:
    loop = asyncio.get_running_loop()
    world = FakeWorld(clock=loop.time, playback_auto=script.playback == "auto",
                      transfer=script.transfer, speaker=script.speaker)
    world.llm.extend(script.llm)
    world.add_tools(script.tools)
    call = Call(machine, world.ports(), call_id=Path(script.path).stem)
    world.post = call.post
    business = machine.flow.settings.business
    call.wall_start = local_clock(script.clock or DEFAULT_CLOCK, business.get("timezone"))
    call.vars.update(script.vars)  # what `dialflow dial --var` gives an outbound call
    result = ScriptResult(script, call.trace, world=world)
    gate = (BargeInGate(call, FakeAudio(world))
            if any(step.voice for step in script.steps) else None)
    consumer = loop.create_task(call.run(), name=f"{call.call_id}:consumer")
    start, now = loop.time(), loop.time()
    seen_trace, seen_records, seen_guesses = 0, 0, 0
    try:
        for step in script.steps:
            target = start + step.at if step.at is not None else now + (step.after or 0.0)
            if target > loop.time():
                await asyncio.sleep(target - loop.time())
            now = loop.time()
            await settle(call)
            world.llm.extend(step.llm)
            world.add_tools(step.tools)
            world.transfer = step.transfer or world.transfer
            world.speaker = step.speaker or world.speaker
            if gate is not None and step.voice:
                gate.voice(step.voice)
            if step.voice == "resumed":
                call.speculation.drop()
            if step.guess is not None:
                call.speculation.guess(step.guess, step.data.get("confidence"))
                await settle(call)
            if step.event:
                data = dict(step.data)
                if step.event == "call.started":
                    data.setdefault("caller", DEFAULT_CALLER)
                if gate is None or gate.admit(step.event, data):
                    call.post(step.event, **data)
                await settle(call)
            window = Window(call.trace.entries[seen_trace:], world.records[seen_records:], call,
                            seen_guesses)
            result.marks.append((seen_trace, step))
            result.failures.extend(check_step(script, step, window))
            seen_trace, seen_records = len(call.trace.entries), len(world.records)
            seen_guesses = len(call.speculation.log)
    finally:
        if gate is not None:
            gate.close()
        if not consumer.done():
            consumer.cancel()
        await asyncio.gather(consumer, return_exceptions=True)
    problems = [r for r in world.records if r.kind == "problem"]
    result.failures.extend(f"{script.path}: script problem at {p.at:.3f}s: {p.detail}"
                           for p in problems)
    return result
