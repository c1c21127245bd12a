"""`VirtualClockLoop`: an asyncio loop whose clock jumps ahead whenever it would sleep.

The engine arms every timer on the running loop's clock, so the same code runs on a real
loop in production and on this loop in event scripts and benchmarks: a five-minute call
replays in milliseconds, identically on every run. Real file descriptors are still polled
(without blocking), so sockets keep working.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class _SkippingSelector(selectors.DefaultSelector):
    def __init__(self, loop: VirtualClockLoop):
        super().__init__()
        self._loop = loop

    def select(self, timeout: float | None = None) -> list[Any]:
        ready = super().select(0)
        if not ready and timeout is not None and timeout > 0:
            self._loop.advance(timeout)
        return ready


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """Time starts at 0.0 and moves only when every task is waiting on a timer."""

    def __init__(self) -> None:
        self._now = 0.0
        super().__init__(selector=_SkippingSelector(self))

    def time(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        self._now += seconds


def run_virtual(coro: Coroutine[Any, Any, T]) -> T:
    """Run `coro` to completion on a fresh virtual-time loop and close it."""
    loop = VirtualClockLoop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()
