"""Fake speech providers for server tests and benchmarks: a tone TTS and an energy STT.

`ToneTts` turns text into a mu-law tone whose length follows the text (10 ms a character
by default), so playback and marks behave like speech without a model. `EnergyStt` detects
the caller's speech by frame energy, reports `caller.speech_started` with its growing
duration, and at the end of a burst emits `caller.utterance` with the next scripted text.
Both can be given a latency to model a provider's time to first byte / final transcript.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator
from typing import Any

import numpy as np

from adapters.audio.mulaw import lin2ulaw, ulaw2lin

RATE = 8000
END_SILENCE_MS = 300  # how much silence ends a caller's turn in the fake STT
_LEVEL = np.abs(ulaw2lin(bytes(range(256))).astype(np.int32))  # each mu-law code's level


def tone(seconds: float, freq: float = 440.0, level: float = 8000.0) -> bytes:
    """A mu-law sine tone: stand-in for speech audio."""
    t = np.arange(int(seconds * RATE)) / RATE
    return lin2ulaw((np.sin(2 * np.pi * freq * t) * level).astype(np.int16))


def silence(seconds: float) -> bytes:
    return b"\xff" * int(seconds * RATE)


class ToneTts:
    name = "fake-tone"

    def __init__(self, seconds_per_char: float = 0.01, latency: float = 0.0,
                 chunk_seconds: float = 0.1):
        self.seconds_per_char = seconds_per_char
        self.latency = latency
        self.chunk_seconds = chunk_seconds
        self.spoken: list[str] = []

    async def warm(self) -> None:
        return None

    async def synthesize(self, text: str, call_id: str = "-") -> AsyncIterator[bytes]:
        self.spoken.append(text)
        if self.latency:
            await asyncio.sleep(self.latency)
        audio = tone(max(0.1, len(text) * self.seconds_per_char))
        step = int(self.chunk_seconds * RATE)
        for start in range(0, len(audio), step):
            yield audio[start:start + step]
            await asyncio.sleep(0)


class EnergyStt:
    name = "fake-energy"

    def __init__(self, transcripts: list[str] | None = None, latency: float = 0.0,
                 end_silence_ms: int = END_SILENCE_MS, threshold: float = 500.0):
        self.transcripts: deque[str] = deque(transcripts or [])
        self.latency = latency
        self.end_silence_ms = end_silence_ms
        self.threshold = threshold
        self.sessions: list[_EnergySession] = []
        # The codes at or below the threshold: what a frame keeps once they are deleted is
        # its loud samples (a C-speed count, no decoding per frame).
        self.quiet_codes = bytes(int(c) for c in np.flatnonzero(np.less_equal(_LEVEL, threshold)))

    async def warm(self) -> None:
        return None

    def open(self, call_id: str, emit: Any) -> _EnergySession:
        session = _EnergySession(self, emit)
        self.sessions.append(session)
        return session


class _EnergySession:
    def __init__(self, provider: EnergyStt, emit: Any):
        self.provider = provider
        self.emit = emit
        self.speech_ms = 0
        self.silence_ms = 0
        self.closed = False
        self._pending: set[asyncio.Task[None]] = set()

    def feed(self, ulaw: bytes) -> None:
        # Loud when over a quarter of the samples pass the threshold. This runs for every
        # 20 ms frame of every call, and a benchmark should measure the engine, not the fake.
        loud = len(ulaw.translate(None, self.provider.quiet_codes)) * 4 > len(ulaw)
        ms = len(ulaw) * 1000 // RATE
        if loud:
            self.speech_ms += ms
            self.silence_ms = 0
            if self.speech_ms % 100 == 0 and self.speech_ms <= 1000:
                self.emit("caller.speech_started", duration_ms=self.speech_ms)
        elif self.speech_ms:
            self.silence_ms += ms
            if self.silence_ms >= self.provider.end_silence_ms:
                ended_at = time.perf_counter() - self.silence_ms / 1000
                self.speech_ms = self.silence_ms = 0
                text = self.provider.transcripts.popleft() if self.provider.transcripts else ""
                if self.provider.latency <= self.provider.end_silence_ms / 1000:
                    self._emit_final(text, ended_at)  # the silence was the whole latency
                    return
                task = asyncio.get_running_loop().create_task(self._final(text, ended_at))
                self._pending.add(task)
                task.add_done_callback(self._pending.discard)

    async def _final(self, text: str, ended_at: float) -> None:
        """`latency` counts from the end of speech, end-pointing silence included, as a
        provider's "time to final transcript" does."""
        wait = self.provider.latency - (time.perf_counter() - ended_at)
        if wait > 0:
            await asyncio.sleep(wait)
        self._emit_final(text, ended_at)

    def _emit_final(self, text: str, ended_at: float) -> None:
        self.emit("caller.utterance", text=text, confidence=0.95 if text else 0.0,
                  ended_at=ended_at)

    async def close(self) -> None:
        self.closed = True
        for task in list(self._pending):
            task.cancel()


class CannedBrain:
    """A brain that answers every turn with the same reply after `latency` seconds, sentence
    by sentence (for benchmarks and load tests, where scripted answers per call don't fit)."""

    name = "fake-canned"

    def __init__(self, reply: str = "Sure. We are open until seven tonight.",
                 latency: float = 0.0):
        self.reply = reply
        self.latency = latency
        self.turns = 0

    async def respond(self, turn: Any) -> AsyncIterator[Any]:
        from engine.ports import Sentence

        self.turns += 1
        if self.latency:
            await asyncio.sleep(self.latency)
        for sentence in self.reply.split(". "):
            yield Sentence(sentence if sentence.endswith(".") else sentence + ".")

    def tool_result(self, call_id: str, tool: Any, outcome: Any) -> None:
        return None

    def forget(self, call_id: str) -> None:
        return None
