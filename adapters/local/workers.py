"""The shared worker threads that run model inference off the event loop.

One single-thread pool for whisper and one for piper, shared by every call in the process:
whisper already uses both cores of this machine (`cpu_threads=2`) and piper's onnxruntime
session runs on the worker's thread (`runtime`: one intra-op thread, no spinning), so more
workers would only oversubscribe the CPU.
Jobs from different calls queue in order, except piper's: its pool runs the piece needed
soonest first (`deadline`), so a call's first clause is not rendered after other calls'
later clauses that nobody will hear for seconds, and a piece with more than a second to
spare waits while whisper or the turn model has work (a caller is waiting for that; on two
cores piper beside them slowed both). Touches nothing but `concurrent.futures` and
`deadline`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Executor

from adapters.local.deadline import DeadlineExecutor

STT_WORKERS = 1
TTS_WORKERS = 1
TURN_WORKERS = 1

_lock = threading.Lock()
_pools: dict[str, Executor] = {}  # what the functions below hand out (a bench may wrap)
_made: dict[str, DeadlineExecutor] = {}  # the pools themselves


def _fifo(name: str, workers: int) -> DeadlineExecutor:
    return DeadlineExecutor(workers, name=f"dialflow-{name}")


def _urgent_work() -> bool:
    """Whisper or the turn model has a job running or queued."""
    return any(pool.busy for name, pool in list(_made.items()) if name in ("stt", "turn"))


def _by_deadline(name: str, workers: int) -> DeadlineExecutor:
    return DeadlineExecutor(workers, name=f"dialflow-{name}", defer_while=_urgent_work)


def _pool(name: str, workers: int,
          make: Callable[[str, int], DeadlineExecutor] = _fifo) -> Executor:
    with _lock:
        pool = _pools.get(name)
        if pool is None:
            made = make(name, workers)
            _made[name] = made
            _pools[name] = pool = made
        return pool


def stt_executor() -> Executor:
    """The pool whisper transcriptions run in."""
    return _pool("stt", STT_WORKERS)


def tts_executor() -> Executor:
    """The pool piper synthesis runs in: soonest deadline first (`submit_by`)."""
    return _pool("tts", TTS_WORKERS, _by_deadline)


def turn_executor() -> Executor:
    """The pool the end-of-turn model runs in (beside whisper, so a decision never waits
    for a transcription)."""
    return _pool("turn", TURN_WORKERS)
