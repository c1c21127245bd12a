"""Event logs: their size per call-minute and what writing them costs at load.

    python -m bench.eventlog_bench --calls 200 --turns 6

1. Runs `bench/server_bench.py` twice with the same load — event logs off, then on
   (`--event-logs`) — and prints the engine-added turn latency p50/p99 of both: the cost of
   writing the logs is the difference (budget: p99 within 10 ms at 200 calls).
2. Measures the logs the second run wrote: bytes per call and per call-minute, and a
   5-minute call at the same density (budget: under 50 KB); and the time one line takes to
   write on the event loop (serialise, compress, write, flush; the fsync runs on the
   background syncer).
3. Runs the same number of calls on one virtual-time loop in this process (engine and
   scripted fakes only, no sockets), records off and on, and prints the CPU per turn that
   writing the log adds: a figure that a loaded machine disturbs far less than latency.
`--sizes-only` skips the server run with logs off. `--cpu-only LOGS` prints only the CPU
figures (a line written alone; a line as the server writes them, 200 logs on one loop; the
virtual-time loop), reading a previous run's logs in LOGS/calls: the quick before/after.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from engine.call import Call  # noqa: E402
from engine.clock import run_virtual  # noqa: E402
from engine.machine import FlowMachine  # noqa: E402
from engine.records.log import EventLogWriter, entry_record, read_lines, read_log  # noqa: E402
from engine.records.privacy import DataDirs  # noqa: E402
from engine.records.recorder import CallRecords  # noqa: E402
from engine.scripts.fakes import FakeWorld  # noqa: E402
from engine.transcripts import SYNCER  # noqa: E402
from flows import load_flow  # noqa: E402

LATENCY = re.compile(r"engine-added latency p50 ([\d.]+) ms, p99 ([\d.]+) ms")


def run_server_bench(calls: int, turns: int, logs: str | None) -> tuple[str, float, float]:
    command = [sys.executable, "-m", "bench.server_bench", "--calls", str(calls),
               "--turns", str(turns), *(["--event-logs", logs] if logs else [])]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    found = LATENCY.search(out)
    p50, p99 = (float(found.group(1)), float(found.group(2))) if found else (0.0, 0.0)
    return out, p50, p99


def sizes(directory: Path) -> dict[str, float]:
    logs = sorted((directory / "calls").glob("*.jsonl.gz"))
    per_call = [p.stat().st_size for p in logs]
    minutes = [max(read_log(p).duration, 1.0) / 60 for p in logs]
    per_minute = [b / m for b, m in zip(per_call, minutes, strict=True)]
    return {"logs": len(logs), "bytes_p50": statistics.median(per_call or [0]),
            "bytes_max": max(per_call or [0]),
            "minutes_p50": statistics.median(minutes or [0]),
            "per_minute_p50": statistics.median(per_minute or [0]),
            "per_minute_max": max(per_minute or [0])}


def five_minute_call(directory: Path) -> tuple[int, float]:
    """A 5-minute call at the density of the bench's calls: the recorded lines of
    consecutive calls, end to end with shifted times, written through the real writer (one
    gzip stream, as one long call would be). Returns (bytes on disk, minutes)."""
    writer = EventLogWriter(directory / "five-minutes.jsonl.gz")
    offset, first = 0.0, True
    for path in sorted((directory / "calls").glob("*.jsonl.gz")):
        for line in read_lines(path):
            record = json.loads(line)
            if record.get("k") == "call":
                if first:
                    writer.write(record)
                first = False
                continue
            if record.get("k") == "end":
                continue
            for key in ("t", "end"):
                if key in record:
                    record[key] = round(float(record[key]) + offset, 4)
            writer.write(record)
        offset += read_log(path).duration
        if offset >= 300:
            break
    writer.close()
    SYNCER.wait_idle()
    return writer.path.stat().st_size, offset / 60


async def _engine_calls(calls: int, turns: int, directory: Path | None) -> int:
    """`calls` concurrent calls of the default flow on one virtual-time loop, with the
    scripted fakes, each taking `turns` turns; with `directory`, each call is recorded."""
    loop = asyncio.get_running_loop()
    flow = load_flow(ROOT / "flows.yaml")
    machine = FlowMachine(flow)
    records = CallRecords(DataDirs.from_env({}, root=directory)) if directory else None
    events = 0

    async def one(index: int) -> None:
        nonlocal events
        world = FakeWorld(clock=loop.time, playback_auto=True)
        world.llm.extend({"reply": "Sure. We are open until seven tonight."}
                         for _ in range(turns))
        ports = world.ports()
        record = records.open(f"CA{index:06d}", "+15550001111", flow) if records else None
        call = Call(machine, record.wrap(ports) if record else ports, call_id=f"CA{index}")
        if record is not None:
            record.attach(call)
        world.post = call.post
        task = loop.create_task(call.run())
        call.post("call.started", caller="+15550001111", call_sid=f"CA{index}")
        for _ in range(turns):
            await asyncio.sleep(8.0)
            for ms in range(100, 700, 100):
                call.post("caller.speech_started", duration_ms=ms)
                await asyncio.sleep(0.1)
            call.post("caller.utterance", text="What time do you close today?",
                      confidence=0.95)
        await asyncio.sleep(8.0)
        call.post("call.hangup")
        await task
        if record is not None:
            record.close(call.state)
        events += len(call.trace.entries)

    await asyncio.gather(*(one(i) for i in range(calls)))
    return events


def engine_cost(calls: int, turns: int, directory: Path) -> tuple[list[float], int]:
    """CPU seconds per turn of the loop's thread, records off and on, and of the whole
    process with records on (the fsync thread included)."""
    out, events = [], 0
    for target in (None, directory / "engine"):
        start, process = time.thread_time(), time.process_time()
        events = run_virtual(_engine_calls(calls, turns, target))
        out.append((time.thread_time() - start) / (calls * turns))
        SYNCER.wait_idle()
    out.append((time.process_time() - process) / (calls * turns))
    return out, events


def line_cost(directory: Path, sample: Path, repeat: int = 20) -> float:
    """Microseconds to write one recorded line, measured on a copy of a real call's lines."""
    entries = read_log(sample).entries
    writer = EventLogWriter(directory / "cost.jsonl.gz")
    start = time.perf_counter()
    for _ in range(repeat):
        for entry in entries:
            writer.write(entry_record(entry, entry.at))
    elapsed = time.perf_counter() - start
    writer.close()
    SYNCER.wait_idle()
    return elapsed / max(1, repeat * len(entries)) * 1e6


def loop_line_cost(directory: Path, sample: Path, calls: int = 200, rounds: int = 30,
                   busy: int = 40) -> tuple[float, dict[int, int]]:
    """The loop thread's CPU per line (microseconds) as the server writes them: `calls`
    logs open on one event loop, and in each loop iteration `busy` of them write one or
    two of a real call's lines (entries as the trace writes them: built, encoded, queued,
    then compressed and written after the iteration). Also the collections by generation
    this caused (the collector runs as it would: a figure for allocations)."""
    entries = read_log(sample).entries
    writers = [EventLogWriter(directory / f"loop-{n}.jsonl.gz") for n in range(calls)]
    lines = 0
    counts = [s["collections"] for s in gc.get_stats()]

    async def run() -> float:
        nonlocal lines
        start = time.thread_time()
        for r in range(rounds * len(entries) // 2):
            for n in range(busy):
                writer = writers[(r * busy + n) % calls]
                for k in range(1 + (n + r) % 2):
                    entry = entries[(r + n + k) % len(entries)]
                    writer.write(entry_record(entry, entry.at))
                    lines += 1
            await asyncio.sleep(0)
        await asyncio.sleep(0)
        return time.thread_time() - start

    elapsed = asyncio.run(run())
    collections = {g: s["collections"] - counts[g] for g, s in enumerate(gc.get_stats())}
    for writer in writers:
        writer.close()
    SYNCER.wait_idle()
    return elapsed / max(1, lines) * 1e6, collections


def cpu_figures(logs: Path, directory: Path, calls: int, turns: int) -> None:
    sample = max((logs / "calls").glob("*.jsonl.gz"), key=lambda p: p.stat().st_size)
    print(f"one line written on the loop, alone: {line_cost(directory, sample):.1f} us "
          "(encode + compress + write + flush; fsync off the loop)")
    per_line, collections = loop_line_cost(directory, sample)
    print(f"one line as the server writes them (200 logs on one loop, 40 of them writing 1-2 "
          f"lines an iteration, compressed and written after it): {per_line:.1f} us of the "
          f"loop thread's CPU; collections gen 0/1/2: {collections[0]}/{collections[1]}/"
          f"{collections[2]}")
    (off, on, whole), events = engine_cost(calls, turns, directory)
    print(f"engine CPU per turn on the loop's thread, {calls} concurrent calls on one "
          f"loop (virtual time, {events} events): records off {off * 1e6:.0f} us, on "
          f"{on * 1e6:.0f} us, so writing the log adds {(on - off) * 1e6:.0f} us per turn "
          f"({whole * 1e6:.0f} us per turn for the whole process with the fsync thread)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--sizes-only", action="store_true")
    parser.add_argument("--cpu-only", metavar="LOGS", help="only the CPU figures (per line "
                        "on the loop, per turn on the virtual-time loop), with the lines of "
                        "the event logs already in LOGS/calls (a previous run's)")
    args = parser.parse_args()
    directory = Path(tempfile.mkdtemp(prefix="bench-eventlogs-"))
    if args.cpu_only:
        cpu_figures(Path(args.cpu_only), directory, args.calls, args.turns)
        return
    off50 = off99 = 0.0
    if not args.sizes_only:
        _, off50, off99 = run_server_bench(args.calls, args.turns, None)
    out, on50, on99 = run_server_bench(args.calls, args.turns, str(directory))
    print(out.strip())
    figures = sizes(directory)
    print(f"\nevent logs: {figures['logs']:.0f} calls of {figures['minutes_p50'] * 60:.0f} s "
          f"(p50); {figures['bytes_p50'] / 1024:.1f} KB per call p50, "
          f"{figures['bytes_max'] / 1024:.1f} KB max")
    print(f"size per call-minute: p50 {figures['per_minute_p50'] / 1024:.1f} KB, max "
          f"{figures['per_minute_max'] / 1024:.1f} KB -> a 5-minute call "
          f"{figures['per_minute_max'] * 5 / 1024:.0f} KB at the max rate (budget < 50 KB)")
    size, minutes = five_minute_call(directory)
    print(f"a {minutes:.1f}-minute call at this density (the lines of consecutive calls in one "
          f"log): {size / 1024:.1f} KB (budget < 50 KB per 5 minutes)")
    cpu_figures(directory, directory, args.calls, args.turns)
    if args.sizes_only:
        return
    print(f"engine-added latency at {args.calls} calls x {args.turns} turns: logs off p50 "
          f"{off50:.1f} / p99 {off99:.1f} ms; logs on p50 {on50:.1f} / p99 {on99:.1f} ms "
          f"(budget p99 <= 10 ms)")


if __name__ == "__main__":
    main()
