"""The server starts all its worker threads at start-up: a burst of calls (each claims its
stream in a worker thread, tools run there too) starts none, so nothing a thread allocates
once is born in the middle of a burst (it would keep the burst's memory mapped)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from engine.app.server.worker_threads import start_worker_threads, worker_count
from tests.server.harness import running_server


def _busy() -> int:
    return sum(range(20_000))


def _threads() -> set[int | None]:
    return {t.ident for t in threading.enumerate()}


async def _burst() -> None:
    await asyncio.gather(*(asyncio.to_thread(_busy) for _ in range(200)))


def test_every_worker_thread_is_started_at_once_and_a_burst_starts_none() -> None:
    async def main() -> tuple[int, set[int | None], set[int | None]]:
        before = _threads()
        await start_worker_threads()
        started = _threads()
        await _burst()
        return len(started - before), started, _threads()

    new, started, after_burst = asyncio.run(main())
    assert new == worker_count() and after_burst == started


def test_the_server_s_worker_threads_run_from_start_up(tmp_path: Path) -> None:
    async def main() -> tuple[set[int | None], set[int | None]]:
        async with running_server(tmp_path):
            started = _threads()
            await _burst()
            return started, _threads()

    started, after_burst = asyncio.run(main())
    assert after_burst == started
