"""The shared worker threads that run model inference off the event loop.

One single-thread pool for whisper and one for piper, shared by every call in the process:
whisper already uses both cores of this machine (`cpu_threads=2`) and piper's onnxruntime
session uses its own intra-op threads, so more workers would only oversubscribe the CPU.
Jobs from different calls queue in order. Touches nothing but `concurrent.futures`.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

STT_WORKERS = 1
TTS_WORKERS = 1
TURN_WORKERS = 1

_lock = threading.Lock()
_pools: dict[str, ThreadPoolExecutor] = {}


def _pool(name: str, workers: int) -> ThreadPoolExecutor:
    with _lock:
        pool = _pools.get(name)
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"dialflow-{name}")
            _pools[name] = pool
        return pool


def stt_executor() -> ThreadPoolExecutor:
    """The pool whisper transcriptions run in."""
    return _pool("stt", STT_WORKERS)


def tts_executor() -> ThreadPoolExecutor:
    """The pool piper synthesis runs in."""
    return _pool("tts", TTS_WORKERS)


def turn_executor() -> ThreadPoolExecutor:
    """The pool the end-of-turn model runs in (beside whisper, so a decision never waits
    for a transcription)."""
    return _pool("turn", TURN_WORKERS)
