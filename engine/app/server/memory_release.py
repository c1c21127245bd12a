"""`MemoryRelease`: hands the memory of a burst of calls back to the system once it is over.

Why: after a burst, live Python objects are back to the baseline, yet the process keeps
most of the burst's high-water mark. With CPython's default small-object allocator
(pymalloc) a 1 MiB arena stays mapped while any block in it lives, and the blocks that
outlive a burst sit in the burst's arenas: +13 to 15 % over the baseline after 100 concurrent
calls (`bench/soak_bench.py`), bounded (a second burst of the same size adds 1 to 2 %).
Under `PYTHONMALLOC=malloc` (`ALLOCATOR_ENV`, a deployment's choice) `malloc_trim(0)`
returns glibc's free pages even between live blocks: with the steps below, +2.7 to +3.6 %
after three rounds of 1,000 calls, against +12 to +14 % under pymalloc, whose arenas hold
whatever is allocated just after a burst. That comes at a CPU cost (`bench.engine_bench`:
about +30 % per event). So the release only
removes what it can: the event loop's free lists first (`loop_free_lists.py`: up to 250
freed handles of each kind and 255 future iterators, born at the burst's peak), the app's
`tidy` (`Storage.drop_dead_cursors`: sqlite3's weakrefs
to a burst's closed cursors), then CPython's method cache (the names it holds), then a full
collection (which also empties CPython's free
lists, whose blocks would otherwise keep arenas mapped), then glibc's free pages.

When: checked every `interval` seconds; a release runs (in a worker thread) when the open
media sockets fell by at least `min_drop` below their peak since the last release, or to
none since the last release, so a steady load never pays for it. Reports its counts for
`/health` (`describe`). Touches only this process's heap (through
`adapters.local.pool.return_freed_memory`), the running loop's free lists and what `tidy`
touches.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from adapters.local.pool import return_freed_memory
from engine.app.server.loop_free_lists import LoopFreeLists

log = logging.getLogger("dialflow.server")
ALLOCATOR_ENV = "PYTHONMALLOC"


def rss_mib() -> float:
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class MemoryRelease:
    sockets: Callable[[], int]  # media sockets open now
    release: Callable[[], None] = field(default=lambda: _trim())
    tidy: Callable[[], object] | None = None  # runs before each release (in its thread)
    interval: float = 10.0
    min_drop: int = 10
    peak: int = 0
    releases: int = 0
    released_mib: float = 0.0
    _task: asyncio.Task[None] | None = None
    free_lists: LoopFreeLists | None = None  # made by `start`, on the loop, before any call

    def start(self) -> None:
        self.free_lists = LoopFreeLists()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def check(self) -> bool:
        """Release now if the sockets fell by `min_drop` from their peak, or to none at all
        since the last release (a burst's last calls end after the release its first
        endings brought; what they freed would be kept until the next burst); True if it
        did."""
        now = self.sockets()
        self.peak = max(self.peak, now)
        if self.peak - now < self.min_drop and not (now == 0 < self.peak):
            return False
        before = rss_mib()
        started = time.perf_counter()
        if self.free_lists is not None:
            await self.free_lists.flush()
        await asyncio.to_thread(self._tidy_and_release)
        self.releases += 1
        self.released_mib += max(0.0, before - rss_mib())
        log.debug("memory release after a burst (%d -> %d sockets) took %.0f ms",
                  self.peak, now, (time.perf_counter() - started) * 1000)
        self.peak = now
        return True

    def _tidy_and_release(self) -> None:
        if self.tidy is not None:
            self.tidy()
        self.release()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # a failed release never stops the server
                log.exception("memory release failed")

    def describe(self) -> dict[str, object]:
        return {"allocator": os.environ.get(ALLOCATOR_ENV) or "pymalloc",
                "rss_mib": round(rss_mib(), 1), "releases_after_bursts": self.releases,
                "released_mib": round(self.released_mib, 1)}


def _trim() -> None:
    """A full collection first: it frees what only cycles still hold and empties CPython's
    free lists (up to 2,000 tuples of each size, floats, lists, dicts...), which after a
    burst hold blocks in the burst's pymalloc arenas, so arenas left with nothing else are
    unmapped; then glibc's free pages go back. Before it, CPython's method cache (4,096
    entries, one per type and attribute name) lets go of the names it holds: it keeps a
    strong reference to the last string each lookup used, and C code makes a new one per
    call (datetime's `PyObject_CallMethod(tz, "utcoffset")`), so the cache held hundreds
    of strings born in the burst's last moments, pinning its arenas where the collector
    cannot see them. The cache refills on the next lookups."""
    sys._clear_type_cache()
    gc.collect()
    return_freed_memory()
