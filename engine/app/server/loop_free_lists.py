"""`LoopFreeLists`: after a burst, empties the free lists the event loop keeps of its own
small objects, whose blocks, born at the burst's peak, would otherwise keep the burst's
pymalloc arenas mapped for ever.

Why: CPython's `_asyncio` keeps up to 255 freed future iterators (every `await` on a future
makes one), and uvloop (Cython's `@freelist(250)`) up to 250 freed `Handle`s (`call_soon`)
and 250 freed `TimerHandle`s (`call_later`). A free list is a stack: after a burst it holds
the last objects freed as the load fell, which were allocated at its peak, in the arenas
the burst mapped, and a 1 MiB arena stays mapped while any block in it is in use. Measured
in `bench/soak_bench.py` (100 calls at once): of the 1,475 blocks born in the burst and
in use after it, 718 were these (247 iterators, 239 timer handles, 232 handles), and they
sat in the burst's arenas.

How: nothing empties a free list but taking its objects, and an object freed while its
list has room goes back onto it. So a reserve of each kind is taken at start-up and held.
`flush` takes as many objects as a list can hold (every one it holds, plus fresh ones),
frees the reserve (which fills the list again), frees what it took (the list being full,
those blocks go back to the allocator), then takes the reserve back from the list, which
is left empty. Touches only the running loop: the handles it makes do nothing and are
cancelled at once; the future it awaits on is never completed.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

LIST_SIZE = 256  # at least the longest list: uvloop's 250, `_asyncio`'s 255


def _nothing() -> None:
    return None


class LoopFreeLists:
    """Made on the loop it serves (`asyncio.get_running_loop()` at construction)."""

    def __init__(self, size: int = LIST_SIZE) -> None:
        self.loop = asyncio.get_running_loop()
        self.size = size
        # uvloop's handles have free lists; asyncio's own loop makes plain Python objects
        self.handles = type(self.loop).__module__.startswith("uvloop")
        self._future: asyncio.Future[None] = self.loop.create_future()
        self._context = contextvars.Context()  # one for all: a handle copies none
        self._reserve = self._take()
        self.flushes = 0

    def _take(self) -> list[Any]:
        taken: list[Any] = [self._future.__await__() for _ in range(self.size)]
        if self.handles:
            for make in (lambda: self.loop.call_soon(_nothing, context=self._context),
                         lambda: self.loop.call_later(3600, _nothing,
                                                      context=self._context)):
                for _ in range(self.size):
                    handle = make()
                    handle.cancel()
                    taken.append(handle)
        return taken

    async def flush(self) -> None:
        """Leave each free list empty; what it held goes back to the allocator."""
        taken = self._take()
        for _ in range(3):  # the loop lets go of the cancelled handles it still holds
            await asyncio.sleep(0)
        self._reserve.clear()  # refills each list with the reserve
        taken.clear()  # the lists are full: these blocks are freed for real
        self._reserve = self._take()  # the reserve back, from the lists
        for _ in range(3):
            await asyncio.sleep(0)
        self.flushes += 1
