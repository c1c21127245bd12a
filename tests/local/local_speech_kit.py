"""Helpers for the offline speech stack tests: test phrases (and `speak`, one rendered by a voice),
synthetic audio, an event recorder that notes the thread each event was emitted on, and a
counting executor."""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from adapters.audio.mulaw import lin2ulaw
from engine.audio_format import SILENCE, frames

BOOKING = "I would like to book a cleaning on Tuesday"
CONFIRM = "Yes, that works for me."


async def speak(tts: Any, text: str) -> bytes:
    """`text` as 8 kHz mu-law, all of it, from a `TtsProvider` (the real piper voice)."""
    return b"".join([chunk async for chunk in tts.synthesize(text)])


def silence(ms: int) -> bytes:
    return bytes([SILENCE]) * (8 * ms)


def noise(ms: int, amplitude: float = 1000.0, seed: int = 0) -> bytes:
    samples = np.random.default_rng(seed).normal(0.0, amplitude, 8 * ms)
    return lin2ulaw(np.clip(samples, -32768, 32767).astype(np.int16))


def click(ms: int = 10) -> bytes:
    """A full-scale square click, far shorter than any speech."""
    n = 8 * ms
    return lin2ulaw(np.where(np.arange(n) < n // 2, 30000, -30000).astype(np.int16))


def framed(*pieces: bytes) -> list[bytes]:
    """Join audio pieces and cut them into 20 ms frames, as Twilio sends them."""
    return frames(b"".join(pieces))


def words(text: str) -> list[str]:
    """Lower-case words without punctuation."""
    return re.sub(r"[^\w\s]", " ", text.lower()).split()


@dataclass
class Recorder:
    """An `emit` that records (name, fields, thread id) and wakes waiters per event name."""

    events: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)
    _waiters: dict[str, asyncio.Event] = field(default_factory=dict)

    def __call__(self, name: str, **fields: Any) -> None:
        self.events.append((name, fields, threading.get_ident()))
        self._waiter(name).set()

    def _waiter(self, name: str) -> asyncio.Event:
        return self._waiters.setdefault(name, asyncio.Event())

    def named(self, name: str) -> list[dict[str, Any]]:
        return [fields for event, fields, _ in self.events if event == name]

    def names(self) -> list[str]:
        return [event for event, _, _ in self.events]

    async def wait_for(self, name: str, timeout: float = 60.0) -> None:
        """Wait until `name` was emitted (the timeout only guards against a hang)."""
        await asyncio.wait_for(self._waiter(name).wait(), timeout)


class CountingExecutor(ThreadPoolExecutor):
    """A one-thread pool that counts the jobs submitted to it and the jobs that ran."""

    def __init__(self) -> None:
        super().__init__(max_workers=1, thread_name_prefix="test-counting")
        self.submitted = 0
        self.ran = 0
        self._count_lock = threading.Lock()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted += 1

        def counted() -> Any:
            with self._count_lock:
                self.ran += 1
            return fn(*args, **kwargs)

        return super().submit(counted)

    def drain(self) -> None:
        """Block until every job submitted so far has finished."""
        super().submit(lambda: None).result()
