"""FallbackTts: the next provider speaks a sentence the previous one could not start; a
failure after audio started propagates; every sentence starts with the first provider."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable

import pytest
from speech_fakes import ScriptedFailure, ScriptedTts

from adapters.elevenlabs.tts import ElevenLabsTts, ElevenLabsTtsError
from adapters.speech.fallback import AllProvidersFailed, FallbackTts
from tests.fakes.elevenlabs_server import FakeElevenLabsServer

TEXT = "Our office opens at eight tomorrow."
MakeTts = Callable[..., ElevenLabsTts]


async def collect(stream: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in stream]


def test_name_shows_the_chain() -> None:
    chain = FallbackTts([ScriptedTts("elevenlabs"), ScriptedTts("local-piper")])
    assert chain.name == "elevenlabs>local-piper"
    with pytest.raises(ValueError):
        FallbackTts([])


def test_the_secondary_speaks_when_the_primary_fails_before_audio(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="dialflow.speech")
    primary = ScriptedTts("primary", fail_before=1)
    secondary = ScriptedTts("secondary")

    audio = b"".join(asyncio.run(collect(
        FallbackTts([primary, secondary]).synthesize(TEXT, call_id="CA-fb"))))

    assert audio == secondary.audio_for(TEXT)
    assert primary.calls[0].closed and primary.calls[0].chunks == 0
    assert [(c.text, c.call_id) for c in secondary.calls] == [(TEXT, "CA-fb")]
    (switch,) = [r.getMessage() for r in caplog.records]
    assert "CA-fb" in switch and "primary" in switch and "secondary" in switch


def test_a_failure_after_audio_started_propagates() -> None:
    primary = ScriptedTts("primary", fail_after=2)
    secondary = ScriptedTts("secondary")
    got: list[bytes] = []

    async def scenario() -> None:
        async for chunk in FallbackTts([primary, secondary]).synthesize(TEXT):
            got.append(chunk)

    with pytest.raises(ScriptedFailure, match="mid-sentence"):
        asyncio.run(scenario())

    assert b"".join(got) == primary.audio_for(TEXT)[:2 * primary.chunk]
    assert secondary.calls == []  # no second voice mid-sentence


def test_every_sentence_starts_with_the_primary_again() -> None:
    primary = ScriptedTts("primary", fail_before=1)
    secondary = ScriptedTts("secondary")
    chain = FallbackTts([primary, secondary])

    async def scenario() -> tuple[bytes, bytes]:
        first = b"".join(await collect(chain.synthesize("One.")))
        second = b"".join(await collect(chain.synthesize("Two.")))
        return first, second

    first, second = asyncio.run(scenario())
    assert first == secondary.audio_for("One.")
    assert second == primary.audio_for("Two.")
    assert primary.texts == ["One.", "Two."] and secondary.texts == ["One."]


def test_when_every_provider_fails_the_error_lists_them() -> None:
    chain = FallbackTts([ScriptedTts("a", fail_before=1), ScriptedTts("b", fail_before=1),
                         ScriptedTts("c", fail_before=1)])

    with pytest.raises(AllProvidersFailed) as raised:
        asyncio.run(collect(chain.synthesize(TEXT)))

    assert [name for name, _ in raised.value.errors] == ["a", "b", "c"]
    assert "a: ScriptedFailure: a is down" in str(raised.value)


def test_cancelling_closes_the_provider_that_is_speaking() -> None:
    primary = ScriptedTts("primary", fail_before=1)
    secondary = ScriptedTts("secondary", chunk=8)

    async def scenario() -> None:
        stream = FallbackTts([primary, secondary]).synthesize(TEXT)
        await anext(stream)
        await stream.aclose()

    asyncio.run(scenario())
    assert secondary.calls[0].closed
    assert secondary.calls[0].chunks < len(secondary.audio_for(TEXT)) // 8


def test_warm_tolerates_a_provider_that_cannot_warm(caplog: pytest.LogCaptureFixture) -> None:
    primary, secondary = ScriptedTts("primary", fail_warm=True), ScriptedTts("secondary")

    asyncio.run(FallbackTts([primary, secondary]).warm())

    assert primary.warmed == secondary.warmed == 1
    assert "primary failed to warm up" in caplog.text
    with pytest.raises(AllProvidersFailed, match="warm up"):
        asyncio.run(FallbackTts([ScriptedTts("x", fail_warm=True)]).warm())


def test_elevenlabs_down_falls_back_to_the_secondary(fake: FakeElevenLabsServer,
                                                     make_tts: MakeTts) -> None:
    fake.fail_next(503, times=2)
    secondary = ScriptedTts("local-piper")
    chain = FallbackTts([make_tts(max_retries=1), secondary])

    audio = b"".join(asyncio.run(collect(chain.synthesize(TEXT, call_id="CA-503"))))

    assert audio == secondary.audio_for(TEXT)
    assert [r.status for r in fake.requests] == [503, 503]  # first try and one retry
    assert chain.name == "elevenlabs>local-piper"


def test_elevenlabs_breaking_mid_stream_is_not_papered_over(fake: FakeElevenLabsServer,
                                                            make_tts: MakeTts) -> None:
    fake.drop_next(after_chunks=1)
    secondary = ScriptedTts("local-piper")
    got: list[bytes] = []

    async def scenario() -> None:
        async for chunk in FallbackTts([make_tts(), secondary]).synthesize(TEXT):
            got.append(chunk)

    with pytest.raises(ElevenLabsTtsError) as raised:
        asyncio.run(scenario())

    assert raised.value.audio_started
    assert b"".join(got) == fake.audio_for(TEXT)[:fake.chunk_bytes]
    assert secondary.calls == []
