"""The shared worker threads that run model inference off the event loop.

One single-thread pool for whisper and one for piper, shared by every call in the process:
whisper already uses both cores of this machine (`cpu_threads=2`) and piper's onnxruntime
session uses its own intra-op threads, so more workers would only oversubscribe the CPU.
Jobs from different calls queue in order, except piper's: its pool runs the piece needed
soonest first (`deadline`), so a call's first clause is not rendered after other calls'
later clauses that nobody will hear for seconds. Touches nothing but `concurrent.futures`
and `deadline`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor

from adapters.local.deadline import DeadlineExecutor

STT_WORKERS = 1
TTS_WORKERS = 1
TURN_WORKERS = 1

_lock = threading.Lock()
_pools: dict[str, Executor] = {}


def _fifo(name: str, workers: int) -> Executor:
    return ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"dialflow-{name}")


def _pool(name: str, workers: int, make: Callable[[str, int], Executor] = _fifo) -> Executor:
    with _lock:
        pool = _pools.get(name)
        if pool is None:
            pool = make(name, workers)
            _pools[name] = pool
        return pool


def stt_executor() -> Executor:
    """The pool whisper transcriptions run in."""
    return _pool("stt", STT_WORKERS)


def tts_executor() -> Executor:
    """The pool piper synthesis runs in: soonest deadline first (`submit_by`)."""
    return _pool("tts", TTS_WORKERS,
                 lambda name, n: DeadlineExecutor(n, name=f"dialflow-{name}"))


def turn_executor() -> Executor:
    """The pool the end-of-turn model runs in (beside whisper, so a decision never waits
    for a transcription)."""
    return _pool("turn", TURN_WORKERS)
