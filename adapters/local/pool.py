"""`IdlePool`: a pool of costly, reusable objects that shrinks back after a burst.

`take` hands out an idle object (the most recently returned one) or makes a new one;
`give_back` returns it. Up to `floor` idle objects are kept ready for ever; an idle object
beyond the floor that nobody took for `idle_seconds` is released by `trim`, which a daemon
timer runs while the pool holds more than the floor (or a caller runs with its own clock).
After releasing objects it asks the C allocator to return freed memory to the system
(glibc's `malloc_trim`), since native models leave their freed arenas in the process
otherwise. Touches threads, the monotonic clock and libc; nothing of the project.
"""

from __future__ import annotations

import ctypes
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


def _libc_malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, found once in the symbols already loaded (`dlopen(NULL)`: no
    `ldconfig` subprocess, no library search); None where libc has none (musl, macOS)."""
    try:
        return getattr(ctypes.CDLL(None), "malloc_trim", None)
    except OSError:
        return None


# Resolved at import, not per release: a release runs just after a burst, and whatever it
# allocates for the first time (a CDLL, a function pointer, `ctypes.util`'s code and its
# `ldconfig` run) outlives it and pins the burst's pymalloc arenas.
_MALLOC_TRIM = _libc_malloc_trim()


def return_freed_memory() -> None:
    """Give freed heap pages back to the system where libc can (glibc); else do nothing."""
    if _MALLOC_TRIM is not None:
        _MALLOC_TRIM(0)


class IdlePool(Generic[T]):
    """Thread-safe. `make` builds one object, `reset` readies a reused one for its next user."""

    def __init__(
        self,
        make: Callable[[], T],
        *,
        reset: Callable[[T], None] | None = None,
        floor: int = 1,
        idle_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        timer: bool = True,
    ) -> None:
        if floor < 0 or idle_seconds < 0:
            raise ValueError("floor and idle_seconds must not be negative")
        self._make = make
        self._reset = reset
        self.floor = floor
        self.idle_seconds = idle_seconds
        self._clock = clock
        self._use_timer = timer
        self._lock = threading.Lock()
        self._idle: deque[tuple[float, T]] = deque()  # (returned at, object), oldest first
        self._timer: threading.Timer | None = None
        self.in_use = 0

    @property
    def idle(self) -> int:
        """How many ready objects the pool holds now."""
        with self._lock:
            return len(self._idle)

    def take(self) -> T:
        with self._lock:
            item = self._idle.pop()[1] if self._idle else None
            self.in_use += 1
        if item is None:
            try:
                return self._make()
            except BaseException:
                with self._lock:
                    self.in_use -= 1
                raise
        if self._reset is not None:
            self._reset(item)
        return item

    def give_back(self, item: T) -> None:
        with self._lock:
            self._idle.append((self._clock(), item))
            self.in_use = max(0, self.in_use - 1)
            above_floor = len(self._idle) > self.floor
        if above_floor:
            self._arm()

    def trim(self, now: float | None = None) -> int:
        """Release the idle objects beyond the floor that were idle `idle_seconds` at `now`
        (default: the pool's clock); returns how many were released."""
        now = self._clock() if now is None else now
        released: list[T] = []
        with self._lock:
            while len(self._idle) > self.floor and now - self._idle[0][0] >= self.idle_seconds:
                released.append(self._idle.popleft()[1])
        count = len(released)
        if count:
            released.clear()  # drop the last references here, outside the lock
            return_freed_memory()
        return count

    def _arm(self) -> None:
        if not self._use_timer:
            return
        with self._lock:
            if self._timer is not None:
                return
            timer = threading.Timer(self.idle_seconds + 0.05, self._timed_trim)
            timer.daemon = True
            self._timer = timer
        timer.start()

    def _timed_trim(self) -> None:
        with self._lock:
            self._timer = None
        self.trim()
        with self._lock:
            again = len(self._idle) > self.floor
        if again:  # objects returned since are released when they have been idle long enough
            self._arm()
