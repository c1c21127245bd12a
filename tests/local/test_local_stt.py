"""`LocalWhisperStt` with the real models: phone audio in, coarse events out, on the loop."""

from __future__ import annotations

import asyncio
import threading

import pytest
from local_speech_kit import (
    BOOKING,
    CONFIRM,
    CountingExecutor,
    Recorder,
    click,
    framed,
    noise,
    silence,
    words,
)

from adapters.local import stt as stt_module
from adapters.local.stt import LocalWhisperStt
from adapters.local.vad import VadParams


async def feed(session, frames: list[bytes]) -> None:
    """Feed 20 ms frames one by one, letting the loop run between them."""
    for frame in frames:
        session.feed(frame)
        await asyncio.sleep(0)


def test_round_trip_piper_to_whisper(spoken: dict[str, bytes]) -> None:
    async def main() -> tuple[Recorder, int]:
        emit = Recorder()
        session = LocalWhisperStt().open("call-rt", emit)
        await feed(session, framed(silence(600), spoken[BOOKING], silence(1200)))
        await emit.wait_for("caller.utterance")
        await session.close()
        return emit, threading.get_ident()

    emit, loop_thread = asyncio.run(main())
    names = emit.names()
    assert names.count("caller.utterance") == 1 and names[-1] == "caller.utterance"
    (utterance,) = emit.named("caller.utterance")
    heard = words(utterance["text"])
    assert "book" in heard and "cleaning" in heard
    assert 0.3 < utterance["confidence"] <= 1.0
    durations = [fields["duration_ms"] for fields in emit.named("caller.speech_started")]
    assert len(durations) >= 3 and durations == sorted(set(durations))
    assert durations[0] <= 200 and durations[-1] >= 1000
    assert {thread for _, _, thread in emit.events} == {loop_thread}


def test_silence_and_noise_give_no_events(warm_models: None) -> None:
    async def main() -> Recorder:
        emit = Recorder()
        session = LocalWhisperStt().open("call-quiet", emit)
        await feed(session, framed(silence(1500), noise(2000), silence(500), noise(1000, 3000, 2)))
        await session.close()
        return emit

    assert asyncio.run(main()).events == []


def test_a_click_does_not_start_speech(warm_models: None) -> None:
    async def main() -> Recorder:
        emit = Recorder()
        session = LocalWhisperStt().open("call-click", emit)
        await feed(session, framed(silence(500), click(), silence(500), click(20), silence(1000)))
        await session.close()
        return emit

    assert asyncio.run(main()).named("caller.speech_started") == []


def test_loop_keeps_ticking_while_whisper_works(spoken: dict[str, bytes]) -> None:
    pool = CountingExecutor()

    async def main() -> tuple[int, Recorder]:
        emit = Recorder()
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        session = LocalWhisperStt(executor=pool).open("call-tick", emit)
        ticking = asyncio.create_task(ticker())
        # feed everything synchronously: the utterance goes to the worker inside feed()
        for frame in framed(silence(300), spoken[BOOKING], silence(800)):
            session.feed(frame)
        assert pool.submitted == 1 and emit.named("caller.utterance") == []
        before = ticks
        await emit.wait_for("caller.utterance")
        during = ticks - before
        ticking.cancel()
        await session.close()
        return during, emit

    during, emit = asyncio.run(main())
    pool.shutdown()
    assert during >= 3
    assert "book" in words(emit.named("caller.utterance")[0]["text"])


def test_utterances_come_out_in_order_and_close_flushes_the_last(
    spoken: dict[str, bytes],
) -> None:
    async def main() -> tuple[Recorder, int]:
        emit = Recorder()
        # one-step end-pointing: the two-step one (tests/turns) would still be deciding when
        # this faster-than-real-time feed brings the second phrase
        session = LocalWhisperStt(VadParams()).open("call-two", emit)
        # the second phrase is cut off by the hang-up: no trailing silence
        await feed(session, framed(silence(300), spoken[BOOKING], silence(800), spoken[CONFIRM]))
        await session.close()
        session.feed(spoken[BOOKING])  # after close: ignored
        await asyncio.sleep(0)
        return emit, threading.get_ident()

    emit, loop_thread = asyncio.run(main())
    texts = [words(fields["text"]) for fields in emit.named("caller.utterance")]
    assert len(texts) == 2
    assert "cleaning" in texts[0] and "works" in texts[1]
    # the silence between them, on the audio: 800 ms fed, plus the voice's own quiet edges
    first, second = emit.named("caller.utterance")
    assert "gap_ms" not in first and 800 <= second["gap_ms"] <= 1400, second
    assert {thread for _, _, thread in emit.events} == {loop_thread}


def test_a_transcription_failure_emits_stt_error_once(
    spoken: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(ulaw: bytes):
        raise RuntimeError("model file unreadable")

    monkeypatch.setattr(stt_module, "transcribe", broken)

    async def main() -> Recorder:
        emit = Recorder()
        session = LocalWhisperStt(VadParams(end_silence_ms=300)).open("call-err", emit)
        speech = spoken[CONFIRM]
        await feed(session, framed(speech, silence(500), speech, silence(500)))
        await emit.wait_for("stt.error")
        await feed(session, framed(speech, silence(500)))  # a failed session stays quiet
        await session.close()
        return emit

    emit = asyncio.run(main())
    assert emit.named("stt.error") == [{"error": "RuntimeError: model file unreadable"}]
    assert emit.named("caller.utterance") == []
    assert emit.names()[-1] == "stt.error"


def test_an_utterance_soon_after_the_last_is_also_heard_together_with_it(
    spoken: dict[str, bytes],
) -> None:
    async def main() -> Recorder:
        emit = Recorder()
        session = LocalWhisperStt(VadParams(end_silence_ms=300)).open("call-rejoin", emit)
        await feed(session, framed(silence(300), spoken[BOOKING], silence(400), spoken[CONFIRM],
                                   silence(2500), spoken[CONFIRM], silence(800)))
        await session.close()
        return emit

    first, soon, late = asyncio.run(main()).named("caller.utterance")
    assert "rejoined" not in first  # nothing before it
    # within turn.continue_ms (1000) of the first: both audios in one whisper job
    assert soon["gap_ms"] <= 1000 and "works" in words(soon["text"])
    assert "cleaning" not in words(soon["text"])
    both = words(soon["rejoined"])
    assert "cleaning" in both and "works" in both, soon
    assert 0.0 < soon["rejoined_confidence"] <= 1.0
    assert late["gap_ms"] > 1000 and "rejoined" not in late and "rejoined_confidence" not in late
