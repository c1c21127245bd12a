"""With `serve --workers 2` a call lives in one worker process, yet the console answers
for every worker's calls whichever worker takes the request: it reads the live calls from
the event logs all workers write to the shared data directory. Runs the bench's server
(bench/fake_server.py: the real supervisor, app and console, fake speech) as a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from adapters.twilio.caller import SimulatedCaller
from bench.fake_server import AUTH_TOKEN
from tests.console.kit import TOKEN
from tests.server.harness import free_port

ROOT = Path(__file__).resolve().parents[2]
CALLS = 16  # spread over two workers by the kernel: all on one has odds of 2 in 65,536


def first_calls_event(url: str) -> list[dict[str, object]]:
    """The live calls in the first message of /console/live.sse (a new connection)."""
    with httpx.Client(headers={"Authorization": f"Bearer {TOKEN}"}, timeout=20) as client, \
            client.stream("GET", url + "/console/live.sse") as answer:
        assert answer.status_code == 200
        for line in answer.iter_lines():
            if line.startswith("data: "):
                return list(json.loads(line[6:])["calls"])
    raise AssertionError("no calls event")


def test_every_workers_calls_are_listed_by_any_worker(tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, "DIALFLOW_CONSOLE_TOKEN": TOKEN, "PYTHONPATH": str(ROOT)}
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.fake_server", "--port", str(port), "--stats",
         str(tmp_path / "stats.json"), "--workers", "2", "--event-logs", str(tmp_path)],
        cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/health", timeout=2).json()["capacity"][
                        "workers_serving"] == 2:
                    break
            except (httpx.HTTPError, KeyError, ValueError):
                pass
            assert server.poll() is None, "the server exited"
            time.sleep(0.2)
        asyncio.run(hold_calls(url, port))
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)


async def hold_calls(url: str, port: int) -> None:
    callers = [SimulatedCaller(f"ws://127.0.0.1:{port}/ws/media", auth_token=AUTH_TOKEN,
                               call_sid=f"CA-w{n:02d}") for n in range(CALLS)]
    for caller in callers:
        await caller.__aenter__()
    try:
        wanted = {f"CA-w{n:02d}" for n in range(CALLS)}
        async with asyncio.timeout(60):
            while True:
                rows = await asyncio.to_thread(first_calls_event, url)
                if {r["id"] for r in rows} == wanted:
                    break
                await asyncio.sleep(0.3)
        assert len({r["worker"] for r in rows}) == 2, rows  # the calls live in both workers
        for _ in range(6):  # new connections: each lands on either worker
            rows = await asyncio.to_thread(first_calls_event, url)
            assert {r["id"] for r in rows} == wanted
    finally:
        for caller in callers:
            await caller.stop()
