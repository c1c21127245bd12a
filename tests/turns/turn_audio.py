"""Audio helpers for the end-of-turn tests (8 kHz mu-law). Not a conftest: tests/local
imports `conftest` by name, and a second one here would shadow it."""

from __future__ import annotations

import asyncio
import functools

from adapters.local.tts import LocalPiperTts
from engine.audio_format import SILENCE


def silence(ms: int) -> bytes:
    """`ms` milliseconds of mu-law silence."""
    return bytes([SILENCE]) * (8 * ms)


@functools.cache
def booking_speech() -> bytes:
    """'I would like to book a cleaning', spoken once by the real piper voice."""

    async def speak() -> bytes:
        tts = LocalPiperTts(steady=True)
        return b"".join([c async for c in tts.synthesize("I would like to book a cleaning")])

    return asyncio.run(speak())
