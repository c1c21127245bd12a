"""Run one call on examples/extension/loyalty_line.yaml with the real tool registry and print
what happened as JSON. Run as a script by test_entry_points.py, in a Python whose path holds
the installed example package (and nothing else names it): the tool and the behaviour can
only come from its entry points."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from engine.call import Call
from engine.clock import run_virtual
from engine.machine import FlowMachine
from engine.scripts.fakes import FakeWorld
from engine.scripts.runner import settle
from engine.tools_port import CallTools
from flows import load_flow
from tools.builtin import build_registry
from tools.calendar import BusinessCalendar
from tools.storage import Storage

ROOT = Path(__file__).resolve().parents[2]
CALLER = "+15550001111"


async def main() -> dict[str, object]:
    flow = load_flow(ROOT / "examples" / "extension" / "loyalty_line.yaml")
    loop = asyncio.get_running_loop()
    world = FakeWorld(clock=loop.time, playback_auto=True)
    ports = world.ports()
    calendar = BusinessCalendar.from_settings(flow.settings.raw["business"])
    ports.tools = CallTools(build_registry(), Storage("sqlite:///:memory:"), calendar, "CA-ext",
                            CALLER)
    call = Call(FlowMachine(flow), ports, call_id="CA-ext")
    world.post = call.post
    consumer = loop.create_task(call.run())
    call.post("call.started", caller=CALLER)
    for _ in range(60):
        await asyncio.sleep(1)
        await settle(call)
        if call.ended:
            break
    await consumer
    return {"said": [r.detail for r in world.records if r.kind == "said"],
            "effects": [e for entry in call.trace.entries for e in entry.effects],
            "events": [entry.event for entry in call.trace.entries],
            "state": call.state, "points": call.vars.get("points")}


if __name__ == "__main__":
    json.dump(run_virtual(main()), sys.stdout)
