"""How far one phone turn travels through the code: boundary crossings and files touched.

    python -m bench.boundary_bench

Runs the real server (uvicorn, the Media Streams WebSocket) in this process with the fake
speech providers and brain, connects the simulated Twilio caller, waits until the greeting
has been heard, then profiles ONE turn (the caller speaks; the agent answers; the answer is
heard and the call listens again) under `sys.setprofile`. Each Python call whose nearest
calling frame of ours lies in another top-level area (engine core, composition root,
adapters.twilio, other adapters, states, flows, tools, knowledge) counts as a crossing.
Prints the crossings per pair of areas (calls and distinct file->file edges), the
engine/adapters crossings (between the core or the composition root and any adapter), and
the distinct files of ours that ran. The simulated caller (Twilio's side) and the test fakes
are outside and not counted; neither is a coroutine or generator stepping again (an await
chain resuming is not a new call). Areas come from each file's path, so the figures follow
the layout, whichever it is.
"""

from __future__ import annotations

import asyncio
import dis
import sys
import tempfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from types import CodeType, FrameType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.twilio.caller import SimulatedCaller  # noqa: E402
from tests.fakes.providers import silence, tone  # noqa: E402
from tests.server.harness import AUTH_TOKEN, running_server  # noqa: E402

OUTSIDE = "outside"
# The simulated Twilio (the far end of the phone line) and the benchmark's own code.
SIMULATED = ("adapters/twilio/caller.py", "adapters/twilio/playback.py",
             "adapters/twilio/sim/")
# the composition root: engine/app/ now; engine/server|commands|callsim and cli.py before
ROOT_PREFIXES = ("engine/app/", "engine/server/", "engine/commands/", "engine/callsim/",
                 "engine/cli.py")
ADAPTERS = ("adapters.twilio", "other adapters")
RESUMABLE = 0x20 | 0x80 | 0x200  # CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR
CORE = ("engine core", "composition root")


def area_of(path: str) -> str:
    """The top-level area a file of ours belongs to (OUTSIDE for everything else)."""
    if not path.startswith(str(ROOT) + "/"):
        return OUTSIDE
    rel = path[len(str(ROOT)) + 1:]
    if rel.startswith(SIMULATED) or rel.startswith(("tests/", "bench/")):
        return OUTSIDE
    if rel.startswith(ROOT_PREFIXES):
        return "composition root"
    top = rel.split("/", 1)[0]
    if top == "engine":
        return "engine core"
    if top == "adapters":
        return "adapters.twilio" if rel.startswith("adapters/twilio/") else "other adapters"
    if top in ("states", "flows", "tools", "knowledge"):
        return top
    return OUTSIDE


class Crossings:
    """A profile hook counting calls between areas, and the files of ours that ran."""

    def __init__(self) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.edges: set[tuple[str, str]] = set()
        self.files: set[str] = set()
        self._areas: dict[str, str] = {}
        self._entry: dict[CodeType, int] = {}  # generator-like code -> offset of its start

    def _area(self, path: str) -> str:
        area = self._areas.get(path)
        if area is None:
            area = self._areas[path] = area_of(path)
        return area

    def hook(self, frame: FrameType, event: str, arg: Any) -> None:
        if event != "call":
            return
        callee = frame.f_code.co_filename
        callee_area = self._area(callee)
        if callee_area == OUTSIDE:
            return
        self.files.add(callee)
        code = frame.f_code
        if code.co_flags & RESUMABLE and frame.f_lasti > self._start_of(code):
            return  # a coroutine or generator stepping again, not a call
        back = frame.f_back
        while back is not None and self._area(back.f_code.co_filename) == OUTSIDE:
            if back.f_code.co_filename.startswith(str(ROOT) + "/"):
                return  # called from the simulated caller or a fake: not our code's crossing
            back = back.f_back
        if back is None:
            return  # a coroutine resumed by the event loop, not a call
        caller_area = self._area(back.f_code.co_filename)
        if caller_area != callee_area:
            self.calls[(caller_area, callee_area)] += 1
            self.edges.add((back.f_code.co_filename, callee))

    def _start_of(self, code: CodeType) -> int:
        start = self._entry.get(code)
        if start is None:
            start = self._entry[code] = next(
                (i.offset for i in dis.get_instructions(code) if i.opname == "RESUME"), 0)
        return start

    def engine_adapter_calls(self) -> int:
        return sum(n for (a, b), n in self.calls.items()
                   if (a in CORE and b in ADAPTERS) or (a in ADAPTERS and b in CORE))

    def engine_adapter_edges(self) -> int:
        return sum(1 for a, b in self.edges
                   if {self._area(a), self._area(b)} & set(CORE)
                   and {self._area(a), self._area(b)} & set(ADAPTERS))


async def until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.005)


async def one_turn(tmp: Path) -> Crossings:
    crossings = Crossings()
    async with running_server(tmp, transcripts=["What are your opening hours?"]) as server:
        server.world.llm.append({"reply": "We are open from nine to five. See you soon."})
        async with SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid="CA900",
                                   caller="+15550001234") as caller:
            await until(lambda: len(server.services.streams) == 1)
            (stream,) = server.services.streams
            call = stream.call
            assert call is not None
            await until(lambda: call.state == "listening")
            sys.setprofile(crossings.hook)
            try:
                await caller.say(tone(0.6) + silence(0.4))
                await until(lambda: call.timeline.turns == 1)
                await until(lambda: call.state == "listening")
            finally:
                sys.setprofile(None)
    return crossings


def report(crossings: Crossings) -> None:
    print("one phone turn (caller speaks -> answer heard -> listening), fake providers")
    print(f"{'from':<18} {'to':<18} {'calls':>7} {'file edges':>11}")
    edges = Counter((area_of(a), area_of(b)) for a, b in crossings.edges)
    for (a, b), n in sorted(crossings.calls.items()):
        print(f"{a:<18} {b:<18} {n:>7} {edges[(a, b)]:>11}")
    print(f"engine/adapters crossings: {crossings.engine_adapter_calls()} calls over "
          f"{crossings.engine_adapter_edges()} distinct file->file edges")
    print(f"all cross-area crossings: {sum(crossings.calls.values())} calls over "
          f"{len(crossings.edges)} distinct file->file edges")
    print(f"files of ours touched: {len(crossings.files)}")
    for area in sorted({area_of(f) for f in crossings.files}):
        names = sorted(f[len(str(ROOT)) + 1:] for f in crossings.files if area_of(f) == area)
        print(f"  {area} ({len(names)}): {' '.join(names)}")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        report(asyncio.run(one_turn(Path(tmp))))


if __name__ == "__main__":
    main()
