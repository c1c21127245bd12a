"""Helpers for the Deepgram adapter tests: an event recorder, distinctive mu-law frames, and
a `DeepgramStt` wired to a `FakeDeepgram` with short intervals.

This folder has no `__init__.py` on purpose: pytest would import a `tests/deepgram` package
as `deepgram`, shadowing the deepgram SDK."""

from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field, replace
from typing import Any

from adapters.deepgram.config import DeepgramOptions
from adapters.deepgram.session import DeepgramSession
from adapters.deepgram.stt import DeepgramStt
from tests.fakes.deepgram_server import FakeDeepgram

FRAME = 160  # 20 ms of 8 kHz mu-law

QUICK = DeepgramOptions(
    keepalive_s=2.0,
    connect_timeout_s=2.0,
    backoff_base_s=0.01,
    backoff_cap_s=0.05,
    finalize_wait_s=1.0,
    close_wait_s=1.0,
    close_timeout_s=5.0,
)


@dataclass
class Recorder:
    """An `emit` that records (name, fields, thread id) and lets a test wait for events."""

    events: list[tuple[str, dict[str, Any], int]] = field(default_factory=list)
    ended_at: list[float] = field(default_factory=list)  # utterances' end of speech, kept apart
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def __call__(self, name: str, **fields: Any) -> None:
        if "ended_at" in fields:
            self.ended_at.append(fields.pop("ended_at"))
        self.events.append((name, fields, threading.get_ident()))
        self._changed.set()

    def named(self, name: str) -> list[dict[str, Any]]:
        return [fields for event, fields, _ in self.events if event == name]

    def names(self) -> list[str]:
        return [event for event, _, _ in self.events]

    def threads(self) -> set[int]:
        return {thread for _, _, thread in self.events}

    async def wait_for(self, name: str, count: int = 1, timeout: float = 10.0) -> None:
        """Wait until `name` was emitted `count` times (the timeout only guards a hang)."""
        async def until() -> None:
            while self.names().count(name) < count:
                self._changed.clear()
                await self._changed.wait()
        await asyncio.wait_for(until(), timeout)


def frames(count: int, first: int = 0) -> list[bytes]:
    """`count` distinct 20 ms mu-law frames; together they use every byte value."""
    return [bytes((7 * (first + i) + j) % 256 for j in range(FRAME)) for i in range(count)]


def make_stt(fake: FakeDeepgram, **overrides: Any) -> DeepgramStt:
    return DeepgramStt(env={"DEEPGRAM_API_KEY": fake.api_key}, base_url=fake.url,
                       options=replace(QUICK, **overrides))


async def feed(session: DeepgramSession, chunks: list[bytes]) -> None:
    """Feed frames one by one, letting the loop run between them."""
    for chunk in chunks:
        session.feed(chunk)
        await asyncio.sleep(0)


async def feed_until(fake: FakeDeepgram, session: DeepgramSession, chunks: list[bytes],
                     connection: int = 0) -> None:
    """Feed `chunks` and wait until the fake's `connection` has received all of them."""
    target = len(fake.connections[connection].audio) if len(fake.connections) > connection else 0
    target += sum(len(chunk) for chunk in chunks)
    await feed(session, chunks)
    await fake.wait_until(lambda f: len(f.connections) > connection
                          and len(f.connections[connection].audio) >= target)
