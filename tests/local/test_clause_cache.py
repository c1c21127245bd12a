"""The clause cache: bounded in bytes (least recently used out first), a rendered clause comes
back without piper, and a synthesis stopped by a barge-in renders nothing more and keeps
nothing cut short."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from local_speech_kit import CountingExecutor

from adapters.local import models
from adapters.local.clause_cache import ClauseCache, ClauseKey
from adapters.local.clauses import split_clauses
from adapters.local.tts import VOLUME, LocalPiperTts
from engine.audio_format import SAMPLE_RATE

REPLY = "I can help with that. Is there anything else I can help you with?"
LONG = ("Thanks for calling, this is the front desk. We are open Monday to Friday, "
        "from nine in the morning, until five in the evening. How can I help you today?")


def key(text: str, steady: bool = False) -> ClauseKey:
    return ClauseKey(models.PIPER_VOICE, text, VOLUME, steady, SAMPLE_RATE)


def test_the_cache_never_holds_more_than_its_bound_and_drops_the_least_recent() -> None:
    cache = ClauseCache(max_bytes=1000, max_entry_bytes=600)
    for i in range(20):
        assert cache.put(key(f"clause {i}"), bytes(300))
        assert cache.bytes <= 1000
    assert len(cache) == 3
    assert cache.get(key("clause 17")) is not None  # used: now the most recent
    cache.put(key("clause 20"), bytes(300))
    assert cache.get(key("clause 17")) is not None
    assert cache.get(key("clause 18")) is None  # the least recently used went first
    assert (cache.hits, cache.misses) == (2, 1)


def test_empty_and_too_long_clauses_are_not_kept() -> None:
    cache = ClauseCache(max_bytes=1000, max_entry_bytes=600)
    assert not cache.put(key("silence"), b"")
    assert not cache.put(key("a long story"), bytes(601))
    assert len(cache) == 0 and cache.bytes == 0
    with pytest.raises(ValueError):
        ClauseCache(max_bytes=-1)


def test_the_key_tells_texts_voices_and_settings_apart() -> None:
    cache = ClauseCache()
    cache.put(key("Okay."), b"\x01" * 10)
    assert cache.get(key("Okay.")) == b"\x01" * 10
    assert cache.get(key("Okay!")) is None
    assert cache.get(key("Okay.", steady=True)) is None
    assert cache.get(ClauseKey("another voice", "Okay.", VOLUME, False, SAMPLE_RATE)) is None


def _say(tts: LocalPiperTts, text: str) -> list[bytes]:
    async def main() -> list[bytes]:
        return [chunk async for chunk in tts.synthesize(text)]

    return asyncio.run(main())


def test_a_clause_said_again_comes_from_the_cache_without_piper(warm_models: None) -> None:
    cache = ClauseCache()
    pool = CountingExecutor()
    tts = LocalPiperTts(executor=pool, cache=cache)
    first = _say(tts, REPLY)
    pool.drain()
    assert pool.ran == len(split_clauses(REPLY)) == 2
    again = _say(tts, REPLY)
    other = _say(tts, "No problem. Is there anything else I can help you with?")
    pool.drain()
    pool.shutdown()
    assert again == first  # the same audio, no render: piper ran once more, for "No problem."
    assert pool.ran == 3
    assert cache.hits == 3 and len(cache) == 3
    assert len(other[1]) == len(first[1])


def test_a_louder_voice_is_not_served_the_quieter_audio(warm_models: None) -> None:
    cache = ClauseCache()
    quiet = _say(LocalPiperTts(cache=cache, volume=0.5, steady=True), "Thank you.")
    loud = _say(LocalPiperTts(cache=cache, volume=0.9, steady=True), "Thank you.")
    assert cache.hits == 0 and len(cache) == 2 and quiet != loud


class GatedExecutor(ThreadPoolExecutor):
    """One thread; the job number `hold` waits until `release` is set. Records what ran."""

    def __init__(self, hold: int) -> None:
        super().__init__(max_workers=1, thread_name_prefix="test-gated")
        self.hold = hold
        self.release = threading.Event()
        self.submitted: list[str] = []
        self.returned: list[bytes] = []

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted.append(str(args[0]) if args else "")
        number = len(self.submitted)

        def job() -> Any:
            if number == self.hold:
                self.release.wait(timeout=60)
            result = fn(*args, **kwargs)
            self.returned.append(result)
            return result

        return super().submit(job)


def test_a_barge_in_stops_the_synthesis_and_caches_nothing_cut_short(warm_models: None) -> None:
    pieces = split_clauses(LONG)
    assert len(pieces) >= 5
    cache = ClauseCache()
    pool = GatedExecutor(hold=2)
    tts = LocalPiperTts(executor=pool, cache=cache)

    async def main() -> bytes:
        stream = tts.synthesize(LONG)
        first = await anext(stream)
        await stream.aclose()  # the caller barged in after the first clause
        return first

    first = asyncio.run(main())
    pool.release.set()  # the piece fetched ahead starts only now, after the stop
    pool.shutdown(wait=True)
    assert pool.submitted == pieces[:2]  # nothing beyond the piece ahead was asked for
    # the piece ahead was cancelled in the queue, or saw the stop and rendered nothing
    assert pool.returned in ([first], [first, b""])
    assert cache.get(key(pieces[0])) == first
    assert all(cache.get(key(piece)) is None for piece in pieces[1:])
    assert len(cache) == 1
