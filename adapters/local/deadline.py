"""`DeadlineExecutor`: a worker pool that runs the queued job whose deadline is soonest.

The shared piper pool serves every call: a FIFO queue made a call's first clause (the
caller is waiting in silence) wait behind other calls' later clauses, which are rendered
seconds before anyone hears them. Here `submit(fn, *args)` is due now, so plain
`run_in_executor` jobs keep their order, and `submit_by(deadline, fn, *args)` is due at
`deadline` (`time.monotonic()` seconds): a job due later waits while a sooner one is
queued. Ties run in submission order; a job cancelled before it starts is skipped.
`defer_while` (optional) makes a job with slack wait for other work: while it answers true
(whisper is transcribing someone's turn), a job due more than `slack_s` from now is not
started, so the two cores go to the work a caller is waiting for; it starts once the other
work is done or its slack is down to `slack_s` (or twice the pool's typical run, if
longer: a loaded machine renders slower), whichever is first.
Touches threads and the monotonic clock; nothing of the project.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
import weakref
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

SLACK_S = 1.0  # a deferred job still starts this long before it is due
DEFER_POLL_S = 0.01  # how often a deferring worker looks whether the other work is done

_live: weakref.WeakSet[DeadlineExecutor] = weakref.WeakSet()


def _at_exit() -> None:
    """As `ThreadPoolExecutor` does: at interpreter exit, let queued jobs finish and join."""
    for pool in list(_live):
        pool.shutdown(wait=True)


threading._register_atexit(_at_exit)  # type: ignore[attr-defined]  # before threads join


class DeadlineExecutor(Executor):
    """`workers` threads, started on the first job, taking the soonest deadline."""

    def __init__(self, workers: int = 1, name: str = "deadline",
                 clock: Callable[[], float] = time.monotonic,
                 defer_while: Callable[[], bool] | None = None,
                 slack_s: float = SLACK_S) -> None:
        if workers < 1:
            raise ValueError("a pool needs at least one worker")
        self._workers = workers
        self._name = name
        self._clock = clock
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int, Future[Any], Callable[..., Any], tuple[Any, ...],
                               dict[str, Any]]] = []
        self._order = itertools.count()
        self._threads: list[threading.Thread] = []
        self._shutdown = False
        self._running = 0
        self._defer_while = defer_while
        self._slack_s = slack_s
        self._typical_s = 0.0  # a moving average of how long a job runs

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        return self.submit_by(self._clock(), fn, *args, **kwargs)

    def submit_by(self, deadline: float, fn: Callable[..., Any], /, *args: Any,
                  **kwargs: Any) -> Future[Any]:
        """Queue `fn(*args, **kwargs)`, needed by `deadline` (the pool's clock)."""
        future: Future[Any] = Future()
        with self._cond:
            if self._shutdown:
                raise RuntimeError("cannot schedule new futures after shutdown")
            heapq.heappush(self._heap, (deadline, next(self._order), future, fn, args, kwargs))
            if len(self._threads) < self._workers:
                thread = threading.Thread(target=self._work,
                                          name=f"{self._name}_{len(self._threads)}")
                _live.add(self)
                self._threads.append(thread)
                thread.start()
            self._cond.notify()
        return future

    @property
    def queued(self) -> int:
        """Jobs waiting for a worker (cancelled ones included until they are reached)."""
        with self._cond:
            return len(self._heap)

    @property
    def busy(self) -> bool:
        """A job is running or waiting."""
        with self._cond:
            return self._running > 0 or bool(self._heap)

    def _next(self) -> tuple[Future[Any], Callable[..., Any], tuple[Any, ...],
                             dict[str, Any]] | None:
        """The next job to run (None: shut down), its future already running."""
        with self._cond:
            while True:
                while not self._heap and not self._shutdown:
                    self._cond.wait()
                if not self._heap:
                    return None
                keep = max(self._slack_s, 2 * self._typical_s)
                slack = self._heap[0][0] - keep - self._clock()
                if slack > 0 and self._defer_while is not None and self._defer_while():
                    self._cond.wait(min(slack, DEFER_POLL_S))  # a sooner job wakes it
                    continue
                _, _, future, fn, args, kwargs = heapq.heappop(self._heap)
                if future.set_running_or_notify_cancel():
                    self._running += 1
                    return future, fn, args, kwargs

    def _work(self) -> None:
        while (job := self._next()) is not None:
            future, fn, args, kwargs = job
            began = time.monotonic()
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to the waiter, as ThreadPoolExecutor does
                future.set_exception(exc)
            else:
                future.set_result(result)
            finally:
                with self._cond:
                    self._running -= 1
                    self._typical_s += 0.2 * (time.monotonic() - began - self._typical_s)
            del job, future, fn, args, kwargs

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        with self._cond:
            self._shutdown = True
            if cancel_futures:
                for _, _, future, *_ in self._heap:
                    future.cancel()
                self._heap.clear()
            self._cond.notify_all()
            threads = list(self._threads)
        if wait:
            for thread in threads:
                thread.join()
