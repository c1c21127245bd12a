"""Where event-log writing holds the server's event loop, at N calls.

    python -m bench.eventlog_holds --calls 200 [--viewers 10] [--no-logs]

Runs the bench server (`bench/fake_server.py`, event logs on unless `--no-logs`) in a process
that records every step of its event loop (`bench/loop_holds.py`), every garbage collection
(`gc.callbacks`) and the CPU of each of its threads, drives it with the simulated callers of
`bench/server_bench.py` (and `--viewers` console viewers), and prints for the window in
which every call is held: the loop's steps that held it 2, 5 and 10 ms or more (CPU and
wall), the ones that took the most CPU, the collections by generation (count, total and
longest), each thread's CPU, and the event-log lines written with the loop's CPU per line
spent inside the writer (`EventLogWriter.write` and its flushes). Counts of long holds and
CPU per line vary much less with the machine's load than a latency p99 does.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import gc
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

THRESHOLDS_MS = (2.0, 5.0, 10.0)


def _thread_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of each thread of this process, by name."""
    out: dict[str, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for task in Path("/proc/self/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


class Probe:
    """Installed in the server process: loop holds, collections, event-log writer CPU."""

    def __init__(self) -> None:
        from bench.loop_holds import LoopHolds

        self.holds = LoopHolds()
        self.gcs: dict[int, list[tuple[float, float]]] = {0: [], 1: [], 2: []}  # (wall, cpu)
        self._gc_start = (0.0, 0.0)
        self.writer_cpu = 0.0
        self.lines = 0
        self.window = False
        self.threads0: dict[str, float] = {}
        self.result: dict[str, Any] = {}

    def install(self) -> None:
        self.holds.install()
        gc.callbacks.append(self._gc)
        self._wrap_writer()
        self._wrap_fsync()

    def _wrap_fsync(self) -> None:
        """Count the fsyncs (the background syncers') and their wall time."""
        self.fsyncs: list[float] = []
        original = os.fsync

        def fsync(fd: Any) -> None:
            start = time.perf_counter()
            try:
                original(fd)
            finally:
                if self.window:
                    self.fsyncs.append(time.perf_counter() - start)

        os.fsync = fsync  # type: ignore[assignment]

    def _gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = (time.perf_counter(), time.thread_time())
        elif self.window:
            wall, cpu = self._gc_start
            self.gcs[info["generation"]].append((time.perf_counter() - wall,
                                                 time.thread_time() - cpu))

    def _wrap_writer(self) -> None:
        """Count the loop thread's CPU inside the writer's methods (whatever their names in
        this version of the writer: every public or flushing method of its classes)."""
        from engine.records import log as log_module

        probe = self
        targets = [log_module.EventLogWriter]
        targets += [getattr(log_module, name) for name in getattr(log_module, "PROBED", ())]
        for cls in targets:
            for name, fn in list(vars(cls).items()):
                if not callable(fn) or name.startswith("__") or isinstance(fn, type):
                    continue

                @functools.wraps(fn)
                def wrapped(*a: Any, _fn: Any = fn, _name: str = name, **k: Any) -> Any:
                    if threading.current_thread() is not threading.main_thread():
                        return _fn(*a, **k)
                    start = time.thread_time()
                    try:
                        return _fn(*a, **k)
                    finally:
                        if probe.window:
                            probe.writer_cpu += time.thread_time() - start
                            if _name == "write":
                                probe.lines += 1

                setattr(cls, name, wrapped)

    def start_window(self) -> None:
        self.holds.reset()
        for values in self.gcs.values():
            values.clear()
        self.writer_cpu, self.lines = 0.0, 0
        self.fsyncs.clear()
        self.threads0 = _thread_cpu()
        self.window = True
        self._t0 = time.perf_counter()

    def end_window(self) -> None:
        if not self.window:
            return
        self.window = False
        wall = time.perf_counter() - self._t0
        threads = _thread_cpu()
        walls, cpus = self.holds.walls, self.holds.cpus
        kinds: dict[str, int] = {}
        for obj in gc.get_objects():  # what a full collection walks (not the frozen heap)
            kind = type(obj).__qualname__
            kinds[kind] = kinds.get(kind, 0) + 1
        self.result = {
            "wall": wall, "steps": len(walls),
            "holds_wall": {t: sum(1 for w in walls if w * 1000 >= t) for t in THRESHOLDS_MS},
            "holds_cpu": {t: sum(1 for c in cpus if c * 1000 >= t) for t in THRESHOLDS_MS},
            "loop_cpu": sum(cpus),
            "top": self.holds.top(8), "top_cpu": self.holds.top_cpu(8),
            "gc": {g: [len(v), sum(c for _, c in v), max((c for _, c in v), default=0.0),
                       max((w for w, _ in v), default=0.0)] for g, v in self.gcs.items()},
            "threads": {n: threads.get(n, 0.0) - self.threads0.get(n, 0.0) for n in threads},
            "writer_cpu": self.writer_cpu, "lines": self.lines,
            "fsyncs": [len(self.fsyncs), sum(self.fsyncs), max(self.fsyncs, default=0.0)],
            "tracked": sum(kinds.values()),
            "kinds": sorted(kinds.items(), key=lambda kv: -kv[1])[:10],
        }


def serve(argv: list[str], out: Path, uvloop: bool) -> None:
    """The server side: the probe, then `bench.fake_server` with `argv`. SIGUSR1 opens the
    measuring window, SIGUSR2 closes it; the figures go to `out` at exit. Loop steps are
    seen only on asyncio's own loop (uvloop runs its callbacks in C): without `uvloop` the
    server runs on it."""
    from bench import fake_server

    if not uvloop:
        fake_server.run_fast = asyncio.run  # type: ignore[assignment]
    probe = Probe()
    probe.install()
    signal.signal(signal.SIGUSR1, lambda *_: probe.start_window())
    signal.signal(signal.SIGUSR2, lambda *_: probe.end_window())
    sys.argv = ["fake_server", *argv]
    try:
        fake_server.main()
    finally:
        probe.end_window()
        out.write_text(json.dumps(probe.result, default=str))


async def drive(url: str, calls: int, turns: int, server: subprocess.Popen[bytes],
                viewers: int) -> dict[str, float]:
    """`server_bench.drive`, with the server told when its measuring window opens/closes."""
    from bench import server_bench

    original = asyncio.sleep

    async def sleep(seconds: float, *a: Any, **k: Any) -> Any:
        if seconds == server_bench.HELD_SECONDS:  # the held window of server_bench.drive
            server.send_signal(signal.SIGUSR1)
            try:
                return await original(seconds, *a, **k)
            finally:
                server.send_signal(signal.SIGUSR2)
        return await original(seconds, *a, **k)

    # Only server_bench's own sleeps are watched (a viewer may sleep as long, elsewhere).
    server_bench.asyncio = types.SimpleNamespace(  # type: ignore[attr-defined]
        **{**vars(asyncio), "sleep": sleep})
    try:
        return await server_bench.drive(url, calls, turns, server.pid, viewers)
    finally:
        server_bench.asyncio = asyncio  # type: ignore[attr-defined]


def run(calls: int, turns: int, viewers: int, logs: bool, seconds: float,
        uvloop: bool) -> dict[str, Any]:
    from bench import server_bench

    server_bench.HELD_SECONDS = seconds
    port = server_bench.free_port()
    tmp = Path(tempfile.mkdtemp(prefix="eventlog-holds-"))
    out = tmp / "holds.json"
    env = {**os.environ, **({"DIALFLOW_CONSOLE_TOKEN": server_bench.CONSOLE_TOKEN}
                            if viewers else {})}
    argv = ["--port", str(port), "--stats", str(tmp / "stats.json"),
            *(["--event-logs", str(tmp / "data")] if logs else [])]
    server = subprocess.Popen([sys.executable, "-m", "bench.eventlog_holds", "--serve",
                               str(out), str(int(uvloop)), *argv], cwd=ROOT, env=env)
    try:
        server_bench.wait_ready(port, 1, server)
        figures = asyncio.run(drive(f"ws://127.0.0.1:{port}/ws/media", calls, turns,
                                    server, viewers))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    result = json.loads(out.read_text())
    stats = json.loads((tmp / "stats.json").read_text())
    result["turns"] = stats["turns"]
    result["figures"] = figures
    return result


def report(result: dict[str, Any], label: str) -> None:
    from bench.server_bench import pct

    wall = result["wall"]
    print(f"== {label}: {result['steps']} loop steps in the {wall:.1f} s window; the loop "
          f"thread's CPU in them {result['loop_cpu'] / wall * 100:.0f} % of a core")
    print("steps holding the loop >= " + ", ".join(
        f"{t:g} ms: {result['holds_wall'][str(t)]} wall / {result['holds_cpu'][str(t)]} CPU"
        for t in THRESHOLDS_MS))
    print("longest (wall): " + "; ".join(f"{n} {w * 1000:.1f} ms ({c * 1000:.1f} CPU)"
                                         for n, c, w in result["top"][:5]))
    print("most CPU in one step: " + "; ".join(f"{n} {c * 1000:.1f} ms"
                                              for n, c in result["top_cpu"][:5]))
    print("garbage collections (CPU): " + "; ".join(
        f"gen {g}: {n} ({total * 1000:.1f} ms, longest {top * 1000:.1f} ms, wall "
        f"{wall_top * 1000:.1f} ms)" for g, (n, total, top, wall_top) in result["gc"].items()))
    print("threads' CPU in the window: " + ", ".join(
        f"{n} {cpu / wall * 100:.1f} %" for n, cpu in sorted(result["threads"].items(),
                                                           key=lambda kv: -kv[1]) if cpu))
    print(f"objects a full collection walks at the window's end: {result['tracked']}; most: "
          + ", ".join(f"{kind} {n}" for kind, n in result["kinds"]))
    count, total, top = result["fsyncs"]
    print(f"fsyncs (background threads): {count} ({count / wall:.0f} a second), "
          f"{total * 1000:.0f} ms in all, longest {top * 1000:.1f} ms")
    lines = result["lines"]
    if lines:
        print(f"event-log lines written: {lines} ({lines / wall:.0f} a second); the loop "
              f"thread's CPU in the writer {result['writer_cpu'] * 1e6 / lines:.1f} us per "
              f"line, {result['writer_cpu'] / wall * 100:.2f} % of a core")
    turns = result["turns"]
    if turns:
        print(f"turn latency (end of turn -> first frame, providers included) p50 "
              f"{pct(turns, .5) * 1000:.1f} ms, p99 {pct(turns, .99) * 1000:.1f} ms over "
              f"{len(turns)} turns; callers kept "
              f"{result['figures']['realtime_share'] * 100:.0f} % of real time")


def main() -> None:
    if len(sys.argv) > 2 and sys.argv[1] == "--serve":
        serve(sys.argv[4:], Path(sys.argv[2]), sys.argv[3] == "1")
        return
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--turns", type=int, default=6)
    parser.add_argument("--viewers", type=int, default=0)
    parser.add_argument("--seconds", type=float, default=10.0, help="the measuring window")
    parser.add_argument("--no-logs", action="store_true", help="event logs off")
    parser.add_argument("--uvloop", action="store_true", help="serve on uvloop, as the "
                        "server does (loop steps are then not seen)")
    args = parser.parse_args()
    print(f"load average before: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    result = run(args.calls, args.turns, args.viewers, not args.no_logs, args.seconds,
                 args.uvloop)
    report(result, f"{args.calls} calls, event logs {'off' if args.no_logs else 'on'}, "
                   f"{args.viewers} console viewers, {'uvloop' if args.uvloop else 'asyncio'}")
    print(f"load average after: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


if __name__ == "__main__":
    main()
