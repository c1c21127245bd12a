"""`LoopFreeLists`: after a burst, empties the free lists the event loop keeps of its own
small objects, whose blocks, born at the burst's peak, would otherwise keep the burst's
pymalloc arenas mapped for ever.

Why: CPython's `_asyncio` keeps up to 255 freed future iterators (every `await` on a future
makes one), and uvloop (Cython's `@freelist(250)`) up to 250 freed `Handle`s (`call_soon`).
A free list is a stack: after a burst it holds the last objects freed as the load fell,
which were allocated at its peak, in the arenas the burst mapped, and a 1 MiB arena stays
mapped while any block in it is in use. Measured in `bench/soak_bench.py` (100 calls at
once): of the 1,475 blocks born in the burst and in use after it, 718 sat on free lists
(247 iterators, 232 handles and 239 of uvloop's `TimerHandle`s).

How: nothing empties a free list but taking its objects, and an object freed while its
list has room goes back onto it. So a reserve of each kind is taken at start-up and held.
`flush` takes as many objects as a list can hold (every one it holds, plus fresh ones),
frees the reserve (which fills the list again), frees what it took (the list being full,
those blocks go back to the allocator), then takes the reserve back from the list, which
is left empty. Taking one allocates nothing else: the handles share one context and do
nothing; the future they await is never completed. uvloop's `TimerHandle`s (250 more,
239 of the blocks above) cannot be held that way: each makes a float when it is made, so a
reserve of them allocated 250 floats at every release, which landed in the burst's arenas
(measured: 261 floats in its new arenas). Their list is refilled instead with 250 made
at the release, side by side (a pool or two), before the ones it held are freed; their
floats go with them.
Touches only the running loop.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

ITERATORS = 255  # `_asyncio`'s FI_FREELIST_MAXLEN
HANDLES = 250  # uvloop's DEFAULT_FREELIST_SIZE


def _nothing() -> None:
    return None


class LoopFreeLists:
    """Made on the loop it serves (`asyncio.get_running_loop()` at construction)."""

    def __init__(self, iterators: int = ITERATORS, handles: int = HANDLES) -> None:
        self.loop = asyncio.get_running_loop()
        self.iterators = iterators
        # uvloop's handles have free lists; asyncio's own loop makes plain Python objects
        self.handles = handles if type(self.loop).__module__.startswith("uvloop") else 0
        self._future: asyncio.Future[None] = self.loop.create_future()
        self._context = contextvars.Context()  # one for all: a handle copies none
        self._reserve = self._take()
        self.flushes = 0

    def _take(self) -> list[Any]:
        """Exactly as many as each list holds at most: one more would be made fresh and
        kept in the reserve, wherever the allocator puts it after a burst."""
        taken: list[Any] = [self._future.__await__() for _ in range(self.iterators)]
        for _ in range(self.handles):
            handle = self.loop.call_soon(_nothing, context=self._context)
            handle.cancel()
            taken.append(handle)
        return taken

    def _timers(self) -> list[Any]:
        taken = []
        for _ in range(self.handles):
            timer = self.loop.call_later(3600, _nothing, context=self._context)
            timer.cancel()
            taken.append(timer)
        return taken

    async def flush(self) -> None:
        """Leave the lists of iterators and handles empty and the list of timer handles
        holding blocks made together; what they held goes back to the allocator."""
        taken = self._take()
        timers = self._timers()  # every one the list held
        fresh = self._timers()  # made now, side by side in a pool or two
        for _ in range(3):  # the loop lets go of the cancelled handles and their timers
            await asyncio.sleep(0)
        self._reserve.clear()  # refills each list with the reserve
        fresh.clear()  # refills the timer handles' list with the ones made now
        taken.clear()  # the lists are full: these blocks are freed for real
        timers.clear()
        self._reserve = self._take()  # the reserve back, from the lists
        for _ in range(3):
            await asyncio.sleep(0)
        self.flushes += 1
