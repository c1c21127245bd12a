"""`DeadlineExecutor`: a worker pool that runs the queued job whose deadline is soonest.

The shared piper pool serves every call: a FIFO queue made a call's first clause (the
caller is waiting in silence) wait behind other calls' later clauses, which are rendered
seconds before anyone hears them. Here `submit(fn, *args)` is due now, so plain
`run_in_executor` jobs keep their order, and `submit_by(deadline, fn, *args)` is due at
`deadline` (`time.monotonic()` seconds): a job due later waits while a sooner one is
queued. Ties run in submission order; a job cancelled before it starts is skipped.
Touches threads and the monotonic clock; nothing of the project.
"""

from __future__ import annotations

import heapq
import itertools
import threading
import time
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any


class DeadlineExecutor(Executor):
    """`workers` daemon threads, started on the first job, taking the soonest deadline."""

    def __init__(self, workers: int = 1, name: str = "deadline",
                 clock: Callable[[], float] = time.monotonic) -> None:
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
                thread = threading.Thread(target=self._work, daemon=True,
                                          name=f"{self._name}_{len(self._threads)}")
                self._threads.append(thread)
                thread.start()
            self._cond.notify()
        return future

    @property
    def queued(self) -> int:
        """Jobs waiting for a worker (cancelled ones included until they are reached)."""
        with self._cond:
            return len(self._heap)

    def _work(self) -> None:
        while True:
            with self._cond:
                while not self._heap and not self._shutdown:
                    self._cond.wait()
                if not self._heap:
                    return
                _, _, future, fn, args, kwargs = heapq.heappop(self._heap)
            if not future.set_running_or_notify_cancel():
                continue
            try:
                result = fn(*args, **kwargs)
            except BaseException as exc:  # handed to the waiter, as ThreadPoolExecutor does
                future.set_exception(exc)
            else:
                future.set_result(result)
            del future, fn, args, kwargs

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
