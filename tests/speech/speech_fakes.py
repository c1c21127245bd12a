"""A tiny scripted `TtsProvider` for the speech-helper tests (no model, no network).

`ScriptedTts` speaks `audio_for(text)` (bytes derived from its name and the text) in
`chunk` sized pieces. It can fail before any audio (`fail_before`) or after `fail_after`
chunks, counts `warm()` calls, records each synthesis (text, call id) and whether its
stream was closed, so tests can see which provider spoke and that streams were released.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass


class ScriptedFailure(RuntimeError):
    pass


@dataclass
class Synthesis:
    text: str
    call_id: str
    closed: bool = False
    chunks: int = 0


class ScriptedTts:
    def __init__(self, name: str = "scripted", *, voice: str = "v1", chunk: int = 100,
                 fail_before: int = 0, fail_after: int | None = None,
                 fail_warm: bool = False) -> None:
        self.name = name
        self.voice = voice
        self.chunk = chunk
        self.fail_before = fail_before  # how many next syntheses fail before any audio
        self.fail_after = fail_after  # fail every synthesis after this many chunks
        self.fail_warm = fail_warm
        self.warmed = 0
        self.calls: list[Synthesis] = []

    def audio_for(self, text: str) -> bytes:
        seed = hashlib.sha256(f"{self.name}:{text}".encode()).digest()
        return (seed * (1 + len(text) * 8 // len(seed)))[:max(8, len(text) * 8)]

    async def warm(self) -> None:
        self.warmed += 1
        if self.fail_warm:
            raise ScriptedFailure(f"{self.name} cannot warm up")

    async def synthesize(self, text: str, call_id: str = "-") -> AsyncIterator[bytes]:
        record = Synthesis(text, call_id)
        self.calls.append(record)
        try:
            await asyncio.sleep(0)
            if self.fail_before:
                self.fail_before -= 1
                raise ScriptedFailure(f"{self.name} is down")
            audio = self.audio_for(text)
            for start in range(0, len(audio), self.chunk):
                if self.fail_after is not None and record.chunks == self.fail_after:
                    raise ScriptedFailure(f"{self.name} broke mid-sentence")
                record.chunks += 1
                yield audio[start:start + self.chunk]
                await asyncio.sleep(0)
        finally:
            record.closed = True

    @property
    def texts(self) -> list[str]:
        return [call.text for call in self.calls]
