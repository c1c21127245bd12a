"""The server starts all its worker threads at start-up: a burst of calls (each claims its
stream in a worker thread, tools run there too) starts none, so nothing a thread allocates
once is born in the middle of a burst (it would keep the burst's memory mapped)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from engine.app.server.worker_threads import THREAD_PREFIX, start_worker_threads, worker_count
from tests.server.harness import running_server


def _busy() -> int:
    return sum(range(20_000))


def _workers() -> set[int | None]:
    return {t.ident for t in threading.enumerate() if t.name.startswith(THREAD_PREFIX)}


def test_every_worker_thread_is_started_at_once_and_a_burst_starts_none() -> None:
    async def main() -> tuple[set[int | None], set[int | None]]:
        lease = start_worker_threads(asyncio.get_running_loop(), count=4)
        try:
            started = _workers()
            await asyncio.gather(*(asyncio.to_thread(_busy) for _ in range(200)))
            return started, _workers()
        finally:
            lease.release()

    started, after_burst = asyncio.run(main())
    assert len(started) == 4 and after_burst == started


def test_the_server_s_worker_threads_run_from_start_up(tmp_path: Path) -> None:
    async def main() -> tuple[set[int | None], set[int | None]]:
        async with running_server(tmp_path):
            started = _workers()
            await asyncio.gather(*(asyncio.to_thread(_busy) for _ in range(200)))
            return started, _workers()

    started, after_burst = asyncio.run(main())
    assert len(started) == worker_count() and after_burst == started


def test_two_apps_on_one_loop_share_the_pool_until_the_last_one_leaves() -> None:
    async def main() -> tuple[int, bool, bool]:
        loop = asyncio.get_running_loop()
        first = start_worker_threads(loop, count=2)
        second = start_worker_threads(loop, count=2)
        first.release()  # one app stopped: the other's work still runs
        still_runs = await asyncio.to_thread(_busy)
        open_after_first = not second.executor._shutdown
        second.release()
        return still_runs, open_after_first, second.executor._shutdown

    result, open_after_first, closed_after_last = asyncio.run(main())
    assert result == _busy() and open_after_first and closed_after_last
