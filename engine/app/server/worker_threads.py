"""`start_worker_threads`: the event loop's worker threads (`asyncio.to_thread`: the stream
claim and the tools' database work, file reads), all started when the server starts.

Why: asyncio's default executor starts its threads one by one as work queues up, so the
first burst of calls started them in the middle of the burst; a thread lives for ever, and
what it allocates once (its `Thread`, locks and queue entries, its database connection and
statement cache) lands in the burst's pymalloc arenas and keeps them mapped after the calls
are gone. Started together at start-up, the same threads belong to the baseline and a burst
grows none. Touches only the running loop's default executor (starts its threads).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading


def worker_count() -> int:
    """The size of asyncio's default executor (`ThreadPoolExecutor()`'s own default)."""
    return min(32, (os.cpu_count() or 1) + 4)


async def start_worker_threads(count: int | None = None, timeout: float = 10.0) -> None:
    """Start every thread of the running loop's default executor now: `count` jobs (its
    size) each wait at a barrier until all have started, so the executor has to start a
    new thread for each. The executor stays the loop's own (made now if it was not yet),
    so the loop shuts it down as usual. An executor smaller than `count` (one a caller set)
    only makes the barrier time out; its threads are started all the same."""
    count = count or worker_count()
    ready = threading.Barrier(count, timeout=timeout)

    def wait() -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            ready.wait()

    loop = asyncio.get_running_loop()
    await asyncio.gather(*(loop.run_in_executor(None, wait) for _ in range(count)))
