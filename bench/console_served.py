"""`console_bench --viewers N`: the console served on the loop that writes the calls' logs,
with N viewers (bench/console_viewers.py, in their own process) attached.

Writes `calls` live event logs the way the server does, with churn (each call takes a turn
every three seconds, ends after six and a new one starts) beside `PAST` finished logs, and
serves the console's routes with uvicorn on the same loop. Measures, first without viewers
and then with them: the process's CPU per second (all its threads) and the loop thread's,
the console's reader process's CPU (it reads the logs, on its own core), and, from
`bench/loop_holds.py`, the longest single hold of the loop and who held it. The difference
between the two phases is what the viewers cost.
"""

from __future__ import annotations

import asyncio
import gc
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.loop_holds import LoopHolds
from engine.app.server.console.reader import NICE
from engine.records.log import EventLogWriter

TOKEN = "console-bench-token-0123456789"
PAST = 200
TURN_EVERY = 3.0
TURNS = 6
TICK = 0.02  # the writers' loop pass
# the calls' side of the loop (not the console)
WRITERS = ("served", "EventLogWriter.drain", "_Pump.run")


class Calls:
    """Live calls writing their logs, each ending after `TURNS` turns (a new one starts)."""

    def __init__(self, directory: Path, count: int, turn: list[dict]):
        self.directory, self.turn, self.made = directory, turn, 0
        self.t0 = time.monotonic()
        self.live = [self._new(n * TURN_EVERY / max(1, count)) for n in range(count)]

    def _new(self, offset: float) -> list:
        self.made += 1
        writer = EventLogWriter(self.directory / f"CA{self.made:06d}-bench.jsonl.gz")
        writer.write({"v": 1, "k": "call", "id": f"CA{self.made:06d}", "start": time.time(),
                      "flow": "0" * 16, "caller": "+15550001234", "pid": 0, "host": ""})
        return [writer, time.monotonic() + offset, 0]  # writer, next turn at, turns done

    def step(self) -> None:
        now = time.monotonic()
        for i, call in enumerate(self.live):
            writer, due, done = call
            if now < due:
                continue
            t = round(now - self.t0, 3)
            for rec in self.turn:
                writer.write({**rec, "t": t})
            call[1], call[2] = due + TURN_EVERY, done + 1
            if call[2] >= TURNS:
                writer.write({"k": "end", "t": t, "state": "ended"})
                writer.close()
                self.live[i] = self._new(TURN_EVERY)


def write_past(directory: Path, turn: list[dict]) -> None:
    for n in range(PAST):
        writer = EventLogWriter(directory / f"PA{n:06d}-bench.jsonl.gz")
        writer.write({"v": 1, "k": "call", "id": f"PA{n:06d}", "start": time.time() - 60,
                      "flow": "0" * 16, "caller": "+15550001234", "pid": 0, "host": ""})
        for k in range(TURNS):
            for rec in turn:
                writer.write({**rec, "t": k * TURN_EVERY})
        writer.write({"k": "end", "t": TURNS * TURN_EVERY, "state": "ended"})
        writer.close()


def child_cpu(pid: int | None) -> float:
    """CPU seconds (user + system) of process `pid` so far (the console's reader), or 0."""
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reader_pid(console: object) -> int | None:
    proc = getattr(getattr(console, "relay", None), "_proc", None)
    return proc.pid if proc is not None else None


async def phase(calls: Calls, seconds: float, holds: LoopHolds,
                console: object = None) -> dict[str, float]:
    holds.reset()
    cpu, loop_cpu, wall = time.process_time(), time.thread_time(), time.perf_counter()
    reader = child_cpu(reader_pid(console))
    while time.perf_counter() - wall < seconds:
        calls.step()
        await asyncio.sleep(TICK)
    wall = time.perf_counter() - wall
    return {"cpu": (time.process_time() - cpu) / wall,
            "reader_cpu": (child_cpu(reader_pid(console)) - reader) / wall,
            "loop_cpu": (time.thread_time() - loop_cpu) / wall,
            "longest": max(holds.walls, default=0.0),
            "longest_cpu": max(holds.cpus, default=0.0)}


async def served(calls_count: int, seconds: float, viewers: int, turn: list[dict]) -> None:
    import uvicorn
    from fastapi import FastAPI

    from engine.app.server.console.access import ConsoleAccess
    from engine.app.server.console.routes import Console, mount

    directory = Path(tempfile.mkdtemp(prefix="console-served-"))
    write_past(directory, turn)
    calls = Calls(directory, calls_count, turn)
    app = FastAPI()
    console = Console(ConsoleAccess(TOKEN), directory)
    mount(app, console)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    gc.collect()
    gc.freeze()
    holds = LoopHolds()
    holds.install()
    quiet = await phase(calls, seconds, holds)
    watchers = subprocess.Popen([sys.executable, "-m", "bench.console_viewers",
                                 f"http://127.0.0.1:{port}", TOKEN, str(viewers)])
    try:
        await phase(calls, 2.0, holds)  # the viewers connect and read the backlog
        watched = await phase(calls, seconds, holds, console)
    finally:
        watchers.terminate()
        watchers.wait(timeout=10)
        holds.uninstall()
        server.should_exit = True
        await serving
        await console.close()
    console_cpu = sum(v for k, v in holds.cpu.items() if k not in WRITERS)
    print(f"{calls_count} live calls (churning: {calls.made} logs made), {PAST} past logs; "
          f"{viewers} console viewers, {seconds:.0f} s a phase")
    for name, f in (("without viewers", quiet), (f"with {viewers} viewers", watched)):
        print(f"{name}: process CPU {f['cpu'] * 100:.1f} % of a core (loop thread "
              f"{f['loop_cpu'] * 100:.1f} %), longest loop hold {f['longest'] * 1000:.2f} ms "
              f"(wall; the loop thread's CPU in its longest step {f['longest_cpu'] * 1000:.2f} ms)")
    print(f"the viewers cost the server process {(watched['cpu'] - quiet['cpu']) * 100:.1f} % "
          f"of a core, and the console's reader process {watched['reader_cpu'] * 100:.1f} % "
          f"(its own process, nice {NICE}); console callbacks on the loop "
          f"{console_cpu / seconds * 100:.1f} % of a core")
    console_longest = max(((w, c, n) for n, (c, w) in holds.longest.items() if n not in WRITERS),
                          default=(0.0, 0.0, "-"))
    console_cpu_max = max((c for n, c in holds.most_cpu.items() if n not in WRITERS), default=0.0)
    print(f"the console's own longest step on the loop with viewers: "
          f"{console_longest[0] * 1000:.2f} ms wall ({console_longest[2]}), the most CPU one of "
          f"its steps took {console_cpu_max * 1000:.2f} ms (the calls' writers excluded)")
    print("longest holds with viewers (cpu / wall ms): " + "; ".join(
        f"{name} {cpu * 1000:.2f} / {wall * 1000:.2f}" for name, cpu, wall in holds.top(5)))
    print("most CPU in one step with viewers (ms): " + "; ".join(
        f"{name} {cpu * 1000:.2f}" for name, cpu in holds.top_cpu(6)))
