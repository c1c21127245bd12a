"""`start_worker_threads`: the event loop's worker threads (`asyncio.to_thread`: the stream
claim and the tools' database work, file reads), all started when the server starts.

Why: asyncio's default executor starts its threads one by one as work queues up, so the
first burst of calls started them in the middle of the burst; a thread lives for ever, and
what it allocates once (its `Thread`, locks and queue entries, its database connection and
statement cache) lands in the burst's pymalloc arenas and keeps them mapped after the calls
are gone. Started together at start-up, the same threads belong to the baseline and a burst
grows none. Touches only the running loop's default executor. Several apps on one loop (the
tests' in-process workers) share one pool, which shuts down when the last of them leaves.
"""

from __future__ import annotations

import asyncio
import os
import threading
import weakref
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

THREAD_PREFIX = "dialflow-worker"


def worker_count() -> int:
    """asyncio's own default size: enough for the I/O-bound work the loop hands out."""
    return min(32, (os.cpu_count() or 1) + 4)


@dataclass
class WorkerThreads:
    """One app's lease on its loop's pool; `release` when the app stops."""

    loop: asyncio.AbstractEventLoop
    executor: ThreadPoolExecutor

    def release(self) -> None:
        pool = _POOLS.get(self.loop)
        if pool is None or pool[0] is not self.executor:
            return
        if pool[1] > 1:
            _POOLS[self.loop] = (pool[0], pool[1] - 1)
            return
        del _POOLS[self.loop]
        self.executor.shutdown(wait=False)


_POOLS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, tuple[ThreadPoolExecutor, int]] = (
    weakref.WeakKeyDictionary())


def start_worker_threads(loop: asyncio.AbstractEventLoop,
                         count: int | None = None) -> WorkerThreads:
    """Make `loop`'s default executor a pool of `count` threads, every one started now
    (each waits at a barrier until all have started, so none is reused before the last is
    made), or join the pool an earlier app made on this loop. Returns the lease."""
    pool = _POOLS.get(loop)
    if pool is not None:
        _POOLS[loop] = (pool[0], pool[1] + 1)
        return WorkerThreads(loop, pool[0])
    count = count or worker_count()
    executor = ThreadPoolExecutor(max_workers=count, thread_name_prefix=THREAD_PREFIX)
    ready = threading.Barrier(count, timeout=30)
    started = [executor.submit(ready.wait) for _ in range(count)]
    for future in started:
        future.result()
    loop.set_default_executor(executor)
    _POOLS[loop] = (executor, 1)
    return WorkerThreads(loop, executor)
