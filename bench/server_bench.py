"""Concurrent calls against one server process with fake providers.

    python -m bench.server_bench --calls 200 --turns 6 [--workers 1 2] [--console-viewers 0 10]
        [--held-seconds 5] [--turns 0: the calls only stream, the per-frame cost alone]

Starts `bench/fake_server.py` in its own process (with `--workers N`: a supervisor and N
worker processes on one port, as `dialflow serve --workers N`), connects simulated Twilio
callers over
real WebSockets (signed handshake, continuous 20 ms microphone frames, real-time playback
with mark echoes), has each take a few turns, and prints: calls held, engine-added latency
per turn (caller's end of turn -> first agent frame sent, minus the fakes' own latencies)
p50/p99, outbound frame pacing jitter p50/p99/max, server RSS per call, and server CPU per
call-second (all server processes together). With several `--workers` values it runs once
for each and ends with a table and a verdict per worker count: the cost per call (the idle
processes' own CPU, measured for a few seconds before the calls, subtracted) should stay flat
as workers are added. With
`--console-viewers N` that many call-console viewers (bench/console_viewers.py) are attached
to the server the whole time (several values: a run for each, with event logs on in every
run, since the console reads them).
The simulated callers run in this process, on the same cores as the server.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from adapters.twilio.caller import SimulatedCaller  # noqa: E402
from bench import console_viewers  # noqa: E402
from bench.fake_server import AUTH_TOKEN  # noqa: E402
from tests.fakes.providers import END_SILENCE_MS, silence, tone  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


IDLE_SECONDS = 3.0
HELD_SECONDS = 5.0  # the measurement window, every call held
FRAME_SECONDS = 0.02  # one media frame of caller audio
FLAT_TOLERANCE = 0.10  # per-call CPU within 10 % of the fewest workers' counts as flat


def server_pids(pid: int) -> list[int]:
    """The server process and its children (the workers, under a supervisor)."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return [pid, *map(int, children)]


def cpu_seconds(pid: int) -> float:
    total = 0.0
    for each in server_pids(pid):
        fields = Path(f"/proc/{each}/stat").read_text().rsplit(")", 1)[1].split()
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def rss_kib(pid: int) -> int:
    total = 0
    for each in server_pids(pid):
        for line in Path(f"/proc/{each}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1])
    return total


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def quiet(caller: SimulatedCaller, seconds: float = 0.6, limit: float = 20.0) -> None:
    """Wait until the agent has said something new and then stayed quiet for `seconds`."""
    start = time.perf_counter()
    before = heard = len(caller.heard)
    since = time.perf_counter()
    while time.perf_counter() - start < limit and not caller.closed:
        if len(caller.heard) != heard or not caller.playback.idle:
            heard, since = len(caller.heard), time.perf_counter()
        elif time.perf_counter() - since >= seconds and heard > before:
            return
        await asyncio.sleep(0.05)


async def one_call(url: str, index: int, turns: int, held: asyncio.Event,
                   ready: list[int], callers: list[SimulatedCaller]) -> int:
    pauses = random.Random(index)  # callers think for a while before they speak, as people do
    async with SimulatedCaller(url, auth_token=AUTH_TOKEN, call_sid=f"CA{index:06d}") as caller:
        callers.append(caller)
        await quiet(caller)
        done = 0
        if not turns:  # --turns 0: the call only streams (the per-frame cost alone)
            ready.append(index)
        for _ in range(turns):
            await asyncio.sleep(pauses.uniform(0.0, 3.0))
            await caller.say(tone(0.6) + silence(0.1))
            await quiet(caller)
            done += 1
            if done == 1:
                ready.append(index)
        await held.wait()
        return done


CONSOLE_TOKEN = "bench-console-token-0123456789"


async def drive(url: str, calls: int, turns: int, pid: int, viewers: int = 0,
                held_seconds: float = HELD_SECONDS) -> dict[str, float]:
    held = asyncio.Event()
    ready: list[int] = []
    callers: list[SimulatedCaller] = []
    base = rss_kib(pid)
    idle_start, idle_wall = cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(IDLE_SECONDS)  # what the processes cost with no call at all
    cpu_idle = (cpu_seconds(pid) - idle_start) / (time.perf_counter() - idle_wall)
    tasks = []
    http = url.replace("ws://", "http://").rsplit("/ws/", 1)[0]
    watching, seen = console_viewers.start(http, CONSOLE_TOKEN, viewers)
    for index in range(calls):
        tasks.append(asyncio.create_task(one_call(url, index, turns, held, ready, callers)))
        await asyncio.sleep(0.02)  # calls arrive over a few seconds, not all in one tick
    start = time.perf_counter()
    while len(ready) < calls and time.perf_counter() - start < 120:
        await asyncio.sleep(0.2)
    frames_start = sum(c.frames_sent for c in callers)
    cpu_start, wall_start = cpu_seconds(pid), time.perf_counter()
    await asyncio.sleep(held_seconds)
    cpu_used, wall = cpu_seconds(pid) - cpu_start, time.perf_counter() - wall_start
    # Call-seconds as the callers actually streamed them (50 media frames each), so a run
    # whose callers fell behind real time is not credited with seconds it did not carry.
    call_seconds = (sum(c.frames_sent for c in callers) - frames_start) * FRAME_SECONDS
    peak = rss_kib(pid)
    held.set()
    results = await asyncio.gather(*tasks, return_exceptions=True)
    await console_viewers.stop(watching)
    completed = sum(1 for r in results if isinstance(r, int) and r == turns)
    if viewers:
        print(f"console viewers: {viewers} attached; they received {seen.messages} pushed "
              f"messages ({seen.items} call items) and {seen.pages} page loads; "
              f"{seen.refused} refused")
    return {"held": float(len(ready)), "completed": float(completed),
            "cpu_held": cpu_used / wall, "cpu_idle": cpu_idle, "cpu_used": cpu_used,
            "call_seconds": call_seconds, "wall": wall,
            "realtime_share": call_seconds / max(1e-9, wall * max(1, len(ready))),
            "rss_per_call_kib": (peak - base) / max(1, calls), "rss_base_kib": float(base)}


def wait_ready(port: int, workers: int, server: subprocess.Popen[bytes]) -> None:
    for _ in range(1200):
        if server.poll() is not None:
            raise SystemExit(f"the bench server exited ({server.returncode})")
        try:
            health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).json()
            if health["capacity"]["workers_serving"] == workers:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit("the bench server did not come up")


def read_stats(stats_file: Path, workers: int) -> dict[str, list]:
    files = [stats_file] if workers == 1 else [
        stats_file.with_name(f"{stats_file.name}.{i}") for i in range(workers)]
    merged: dict[str, Any] = {"turns": [], "jitter": [], "stages": {}}
    for path in files:
        part = json.loads(path.read_text())
        merged["turns"] += part["turns"]
        merged["jitter"] += part["jitter"]
        for name, values in part.get("stages", {}).items():
            merged["stages"].setdefault(name, []).extend(values)
    return merged


def run(args: argparse.Namespace, workers: int, viewers: int = 0) -> dict[str, float]:
    port = free_port()
    stats_file = Path(tempfile.mkdtemp()) / "stats.json"
    env = {**os.environ, **({"DIALFLOW_CONSOLE_TOKEN": CONSOLE_TOKEN} if viewers else {})}
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_server", "--port", str(port), "--stats",
         str(stats_file), "--workers", str(workers), "--stt-latency", str(args.stt_latency),
         "--llm-latency", str(args.llm_latency), "--tts-latency", str(args.tts_latency),
         *(["--event-logs", args.event_logs] if args.event_logs else []),
         *(["--profile", f"{args.profile}.w{workers}"] if args.profile else []),
         "--ws", args.ws],
        cwd=ROOT, env=env)
    try:
        wait_ready(port, workers, server)
        figures = asyncio.run(drive(f"ws://127.0.0.1:{port}/ws/media", args.calls, args.turns,
                                    server.pid, viewers, args.held_seconds))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    stats = read_stats(stats_file, workers)
    # The fake STT's final transcript can come no sooner than its end-pointing silence.
    stt = max(args.stt_latency, END_SILENCE_MS / 1000)
    providers = stt + args.llm_latency + args.tts_latency
    added = [t - providers for t in stats["turns"]]
    jitter = [j * 1000 for j in stats["jitter"]]
    figures["p50_ms"], figures["p99_ms"] = pct(added, .5) * 1000, pct(added, .99) * 1000
    call_seconds = max(1e-9, figures["call_seconds"])
    figures["cpu_ms_per_call_second"] = figures["cpu_used"] * 1000 / call_seconds
    figures["cpu_ms_per_call_second_marginal"] = (
        (figures["cpu_used"] - figures["cpu_idle"] * figures["wall"]) * 1000 / call_seconds)
    print(f"--workers {workers}, {viewers} console viewers, event logs "
          f"{'on' if args.event_logs else 'off'}: {args.calls} calls requested, "
          f"{figures['held']:.0f} held at once, {figures['completed']:.0f} completed "
          f"{args.turns} turns")
    print(f"turns measured: {len(added)}; engine-added latency p50 {figures['p50_ms']:.1f} ms,"
          f" p99 {figures['p99_ms']:.1f} ms (providers' own {providers * 1000:.0f} ms "
          "subtracted)")
    stages = stats.get("stages", {})
    print("turn stages from the end of speech, p50 / p99: " + ", ".join(
        f"{name} {pct(v, .5) * 1000:.0f} / {pct(v, .99) * 1000:.0f} ms"
        for name, v in stages.items() if name in ("final_transcript", "first_sentence",
                                                  "first_frame")))
    print(f"outbound pacing jitter over {len(jitter)} frames: p50 {pct(jitter, .5):.2f} ms, "
          f"p99 {pct(jitter, .99):.2f} ms, max {max(jitter, default=0):.1f} ms")
    print(f"server RSS: {figures['rss_base_kib'] / 1024:.0f} MiB idle, "
          f"{figures['rss_per_call_kib']:.0f} KiB per call; server CPU with every call held: "
          f"{figures['cpu_held'] * 100:.0f} % of one core = "
          f"{figures['cpu_ms_per_call_second']:.2f} ms per call-second; idle "
          f"{figures['cpu_idle'] * 100:.1f} % of one core, so the calls themselves cost "
          f"{figures['cpu_ms_per_call_second_marginal']:.2f} ms per call-second")
    print(f"call-seconds counted from the media frames the callers sent in the "
          f"{figures['wall']:.1f} s window: {figures['call_seconds']:.0f} (the callers kept "
          f"{figures['realtime_share'] * 100:.1f} % of real time); load average "
          f"{' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    return figures


def flat_cost(results: dict[int, dict[str, float]]) -> list[str]:
    """Per-call CPU at each worker count against the fewest workers: flat means within
    `FLAT_TOLERANCE`; the fixed cost of idle workers is shown apart."""
    first = min(results)
    base = results[first]["cpu_ms_per_call_second_marginal"]
    lines = []
    for workers, f in sorted(results.items()):
        if workers == first:
            continue
        change = (f["cpu_ms_per_call_second_marginal"] - base) / base if base > 0 else 0.0
        verdict = "flat" if abs(change) <= FLAT_TOLERANCE else (
            "grows" if change > 0 else "falls")
        lines.append(
            f"per-call CPU with {workers} workers: {f['cpu_ms_per_call_second_marginal']:.2f} "
            f"ms per call-second vs {base:.2f} with {first} ({change * 100:+.0f} %: {verdict}; "
            f"flat = within {FLAT_TOLERANCE * 100:.0f} %); idle processes "
            f"{f['cpu_idle'] * 100:.1f} % vs {results[first]['cpu_idle'] * 100:.1f} % of a core")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--turns", type=int, default=6)  # 1,200 turns at 200 calls
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="server processes; several values run the bench once for each")
    parser.add_argument("--held-seconds", type=float, default=HELD_SECONDS,
                        help="the measurement window, every call held (longer: less noise)")
    parser.add_argument("--stt-latency", type=float, default=0.0)
    parser.add_argument("--llm-latency", type=float, default=0.0)
    parser.add_argument("--tts-latency", type=float, default=0.0)
    parser.add_argument("--event-logs", metavar="DIR", help="the server records each call's "
                        "event log under DIR/calls (see bench/eventlog_bench.py)")
    parser.add_argument("--console-viewers", type=int, nargs="+", default=[0], metavar="N",
                        help="call-console viewers attached during the run; several values "
                        "run the bench once for each (event logs on in every run)")
    parser.add_argument("--ws", default="lean", help="the server's WebSocket implementation: "
                        "lean (engine/app/server/lean_ws.py, as `dialflow serve` runs) or one "
                        "of uvicorn's (auto, websockets-sansio, websockets, wsproto)")
    parser.add_argument("--profile", metavar="FILE", help="profile the server (cProfile, which "
                        "slows it: not for the figures); stats in FILE.w<workers>[.<worker>]")
    args = parser.parse_args()
    if any(args.console_viewers) and not args.event_logs:
        args.event_logs = tempfile.mkdtemp(prefix="bench-event-logs-")  # the console reads them
    results = {(workers, viewers): run(args, workers, viewers) for workers in args.workers
               for viewers in args.console_viewers}
    print(f"(cpu count {os.cpu_count()}; the simulated callers run in this process and share "
          "these cores with the server)")
    if len(results) > 1:
        print("| workers | console viewers | calls held | engine-added p50 | p99 | "
              "server CPU per call-second | of it, the calls (idle subtracted) |")
        print("|---|---|---|---|---|---|---|")
        for (workers, viewers), f in results.items():
            print(f"| {workers} | {viewers} | {f['held']:.0f} | {f['p50_ms']:.1f} ms | "
                  f"{f['p99_ms']:.1f} ms | {f['cpu_ms_per_call_second']:.2f} ms "
                  f"| {f['cpu_ms_per_call_second_marginal']:.2f} ms |")
        for viewers in args.console_viewers:
            by_workers = {w: f for (w, v), f in results.items() if v == viewers}
            if len(by_workers) > 1:
                for line in flat_cost(by_workers):
                    print(line)


if __name__ == "__main__":
    main()
