"""ElevenLabsTts against the fake ElevenLabs server: the request it makes, audio streamed
unchanged and early, barge-in closing the HTTP stream, time to first byte, settings."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import pytest

from adapters.elevenlabs.settings import DEFAULT_VOICE_ID, ElevenLabsConfigError
from adapters.elevenlabs.tts import ElevenLabsTts
from tests.fakes.elevenlabs_server import FakeElevenLabsServer

TEXT = "Thank you for calling Bright Smile Dental. How can I help you today?"
MakeTts = Callable[..., ElevenLabsTts]


async def collect(stream: AsyncIterator[bytes]) -> list[bytes]:
    return [chunk async for chunk in stream]


def test_streams_the_fakes_ulaw_bytes_unchanged(fake: FakeElevenLabsServer,
                                                make_tts: MakeTts) -> None:
    tts = make_tts(voice_id="voice-123")

    chunks = asyncio.run(collect(tts.synthesize(TEXT, call_id="CA1")))

    assert b"".join(chunks) == fake.audio_for(TEXT)
    assert len(chunks) > 1  # streamed in pieces, not one blob
    (request,) = fake.requests
    assert request.path == "/v1/text-to-speech/voice-123/stream"
    assert request.query["output_format"] == "ulaw_8000"
    assert request.query["optimize_streaming_latency"] == "3"
    assert request.model_id == "eleven_flash_v2_5"
    assert request.text == TEXT
    assert request.api_key == fake.api_key
    assert request.completed and not request.disconnected


def test_first_chunk_arrives_before_the_fake_sends_the_rest(fake: FakeElevenLabsServer,
                                                            make_tts: MakeTts) -> None:
    hold = fake.hold_next(after_chunks=1)
    tts = make_tts()
    seen_at_first_byte: list[int] = []
    tts.on_first_byte = lambda call_id, s: seen_at_first_byte.append(fake.requests[0].chunks_sent)
    audio = fake.audio_for(TEXT)

    async def scenario() -> bytes:
        stream = tts.synthesize(TEXT, call_id="CA2")
        first = await anext(stream)
        # The fake cannot send more until released, and it has not been released yet.
        assert fake.requests[0].chunks_sent == 1 and not fake.requests[0].completed
        assert await asyncio.to_thread(hold.reached.wait, 10)  # it is waiting, holding the rest
        hold.release()
        rest = await collect(stream)
        return first + b"".join(rest)

    assert asyncio.run(scenario()) == audio
    assert seen_at_first_byte == [1]
    assert fake.requests[0].completed


def test_time_to_first_byte_is_recorded_per_call(fake: FakeElevenLabsServer,
                                                 make_tts: MakeTts) -> None:
    calls: list[tuple[str, float]] = []
    tts = make_tts(on_first_byte=lambda call_id, seconds: calls.append((call_id, seconds)))
    assert tts.last_ttfb is None

    asyncio.run(collect(tts.synthesize(TEXT, call_id="CA-ttfb")))

    assert [call_id for call_id, _ in calls] == ["CA-ttfb"]
    assert calls[0][1] >= 0
    assert tts.last_ttfb == calls[0][1]


@pytest.mark.parametrize("how", ["cancel", "aclose"])
def test_barge_in_closes_the_http_stream(fake: FakeElevenLabsServer, make_tts: MakeTts,
                                         how: str) -> None:
    hold = fake.hold_next(after_chunks=1)
    tts = make_tts()
    audio = fake.audio_for(TEXT)
    got: list[bytes] = []

    async def speak(first: asyncio.Event) -> None:  # consumes like the engine's speaker
        stream = tts.synthesize(TEXT, call_id="CA-barge")
        async for chunk in stream:
            got.append(chunk)
            first.set()
            if how == "aclose":
                break
        if how == "aclose":
            await stream.aclose()

    async def scenario() -> bool:
        first = asyncio.Event()
        task = asyncio.create_task(speak(first))
        await asyncio.wait_for(first.wait(), 10)  # hang guard only
        if how == "cancel":
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
        else:
            await task
        return await asyncio.to_thread(hold.client_gone.wait, 10)

    assert asyncio.run(scenario()) is True
    (request,) = fake.requests
    assert request.disconnected and not request.completed
    assert request.bytes_sent < len(audio)
    assert b"".join(got) == audio[:request.bytes_sent]


def test_the_next_sentence_after_a_barge_in_still_works(fake: FakeElevenLabsServer,
                                                        make_tts: MakeTts) -> None:
    fake.hold_next(after_chunks=1)
    tts = make_tts()

    async def scenario() -> bytes:
        stream = tts.synthesize("First sentence.", call_id="CA3")
        await anext(stream)
        await stream.aclose()
        return b"".join(await collect(tts.synthesize("Second sentence.", call_id="CA3")))

    assert asyncio.run(scenario()) == fake.audio_for("Second sentence.")
    assert fake.texts() == ["First sentence.", "Second sentence."]


def test_blank_text_makes_no_request(fake: FakeElevenLabsServer, make_tts: MakeTts) -> None:
    assert asyncio.run(collect(make_tts().synthesize("  \n "))) == []
    assert fake.requests == []


def test_voice_and_host_can_come_from_the_environment(fake: FakeElevenLabsServer) -> None:
    env = {"ELEVENLABS_API_KEY": fake.api_key, "ELEVENLABS_VOICE_ID": "env-voice",
           "DIALFLOW_ELEVENLABS_API_URL": fake.base_url + "/"}
    tts = ElevenLabsTts(env=env, model_id="eleven_turbo_v2_5")

    asyncio.run(collect(tts.synthesize("Hi.")))

    assert fake.requests[0].voice_id == "env-voice"
    assert fake.requests[0].model_id == "eleven_turbo_v2_5"
    assert ElevenLabsTts(env={"ELEVENLABS_API_KEY": "k"}).voice_id == DEFAULT_VOICE_ID


def test_warm_is_offline_and_voice_names_voice_and_model(fake: FakeElevenLabsServer,
                                                         make_tts: MakeTts) -> None:
    tts = make_tts(voice_id="v1", model_id="m1")
    asyncio.run(tts.warm())
    assert fake.requests == []
    assert tts.name == "elevenlabs"
    assert tts.voice == "v1/m1"


@pytest.mark.parametrize("env", [{}, {"ELEVENLABS_API_KEY": "   "}])
def test_missing_key_names_the_variable(env: dict[str, str],
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEVENLABS_API_KEY", "from-os-environ")  # `env` wins, not os.environ
    with pytest.raises(ElevenLabsConfigError, match="ELEVENLABS_API_KEY"):
        ElevenLabsTts(env=env)


def test_bad_base_url_is_a_config_error() -> None:
    with pytest.raises(ElevenLabsConfigError, match="base url"):
        ElevenLabsTts(env={"ELEVENLABS_API_KEY": "k"}, base_url="localhost:9")
