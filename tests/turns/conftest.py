"""Shared audio for the end-of-turn tests: a booking line spoken once by the real piper
voice (8 kHz mu-law)."""

from __future__ import annotations

import asyncio

import pytest

from adapters.local.tts import LocalPiperTts


@pytest.fixture(scope="session")
def speech() -> bytes:
    """'I would like to book a cleaning' by piper."""

    async def speak() -> bytes:
        tts = LocalPiperTts(steady=True)
        return b"".join([c async for c in tts.synthesize("I would like to book a cleaning")])

    return asyncio.run(speak())

