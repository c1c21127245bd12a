"""Engine benchmarks: a 5-minute scripted call's wall time, and the per-event cost with
1,000 concurrent calls on one loop. Prints figures; asserts nothing (see README's table).

    python -m bench.engine_bench [--calls 1000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from pathlib import Path

from engine.call import Call
from engine.clock import run_virtual
from engine.machine import FlowMachine
from engine.scripts.fakes import FakeWorld
from engine.scripts.format import Script, ScriptStep
from engine.scripts.runner import run_script
from flows import load_flow

ROOT = Path(__file__).resolve().parent.parent
TURN = "What are your hours on Saturday, and do you take Delta Dental?"
REPLY = "We're open Saturdays from nine to one. Yes, we accept Delta Dental PPO plans."


def five_minute_script(flow_path: Path) -> Script:
    """A caller who asks a question every 15 s for five minutes, with playback timing."""
    turns = 19
    steps = [ScriptStep(line=0, event="call.started", data={"caller": "+15550001111"})]
    for index in range(turns):
        steps.append(ScriptStep(line=0, at=10.0 + 15.0 * index, event="caller.utterance",
                                data={"text": TURN, "confidence": 0.93}))
    steps.append(ScriptStep(line=0, at=299.0, event="call.hangup"))
    return Script(path="bench-5min", name="five minutes", flow_path=flow_path,
                  playback="auto", llm=[{"reply": REPLY}] * turns, steps=steps)


def bench_five_minutes(repeat: int) -> None:
    flow_path = ROOT / "flows.yaml"
    flow = load_flow(flow_path)
    script = five_minute_script(flow_path)
    times, events = [], 0
    for _ in range(repeat):
        start = time.perf_counter()
        result = run_script(script, flow)
        times.append(time.perf_counter() - start)
        events = len(result.trace.entries)
        assert result.trace.entries[-1].after == "hung_up", result.trace.format()
    print(f"5-minute scripted call ({events} events, virtual time): "
          f"median {statistics.median(times) * 1000:.1f} ms, "
          f"min {min(times) * 1000:.1f} ms over {repeat} runs")


async def _concurrent(machine: FlowMachine, calls: int, turns: int) -> tuple[int, float]:
    loop = asyncio.get_running_loop()
    consumers, worlds = [], []
    for index in range(calls):
        world = FakeWorld(clock=loop.time, playback_auto=True)
        world.llm.extend([{"reply": REPLY}] * turns)
        call = Call(machine, world.ports(), call_id=f"bench-{index}")
        world.post = call.post
        worlds.append((world, call))
        consumers.append(loop.create_task(call.run()))
    cpu_start = time.process_time()
    for _, call in worlds:
        call.post("call.started", caller="+15550001111")
    for turn in range(turns):
        await asyncio.sleep(15.0 if turn else 10.0)
        for _, call in worlds:
            call.post("caller.utterance", text=TURN, confidence=0.93)
    await asyncio.sleep(15.0)
    for _, call in worlds:
        call.post("call.hangup")
    traces = await asyncio.gather(*consumers)
    cpu = time.process_time() - cpu_start
    return sum(len(t.entries) for t in traces), cpu


def bench_concurrent(calls: int, turns: int) -> None:
    machine = FlowMachine(load_flow(ROOT / "flows.yaml"))
    events, cpu = run_virtual(_concurrent(machine, calls, turns))
    print(f"{calls} concurrent calls x {turns} turns: {events} events, "
          f"{cpu * 1e6 / events:.1f} µs CPU per event (queue, machine, timers, effects, fakes); "
          f"models left {machine.model_count}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--turns", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    bench_five_minutes(args.repeat)
    bench_concurrent(args.calls, args.turns)


if __name__ == "__main__":
    main()
