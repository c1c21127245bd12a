"""`LocalPiperTts` with the real piper voice: 8 kHz mu-law out, streamed, cancellable."""

from __future__ import annotations

import asyncio

import numpy as np
from local_speech_kit import BOOKING, CountingExecutor

from adapters.audio.mulaw import ulaw2lin
from adapters.local.clause_cache import ClauseCache
from adapters.local.clauses import split_clauses
from adapters.local.tts import LocalPiperTts
from engine.audio_format import SAMPLE_RATE

LONG = (
    "Thanks for calling, this is the front desk. We are open Monday to Friday, "
    "from nine in the morning, until five in the evening. On Saturdays, we open at ten, "
    "and close at two. How can I help you today?"
)


def test_speech_is_8khz_mulaw_of_a_plausible_length(spoken: dict[str, bytes]) -> None:
    audio = spoken[BOOKING]
    seconds = len(audio) / SAMPLE_RATE  # one mu-law byte per 8 kHz sample
    n_words = len(BOOKING.split())
    assert 0.15 * n_words <= seconds <= 0.6 * n_words  # 9 words: 1.35 s .. 5.4 s
    pcm = ulaw2lin(audio).astype(np.float64)
    rms = np.sqrt(np.mean(pcm**2))
    assert rms > 1000  # speech, not silence
    assert np.max(np.abs(pcm)) < 32124  # below mu-law full scale: the volume leaves headroom
    # the resampler's low-pass (3.6 kHz) kept 22 kHz piper audio from aliasing into 8 kHz
    spectrum = np.abs(np.fft.rfft(pcm))
    freqs = np.fft.rfftfreq(len(pcm), 1 / SAMPLE_RATE)
    assert spectrum[(freqs > 300) & (freqs < 3400)].sum() > 5 * spectrum[freqs >= 3700].sum()


def test_chunks_stream_one_piece_ahead(warm_models: None) -> None:
    pieces = split_clauses(LONG)
    assert len(pieces) >= 8
    pool = CountingExecutor()
    tts = LocalPiperTts(executor=pool)

    async def main() -> tuple[list[int], list[int]]:
        sizes: list[int] = []
        submitted_at_chunk: list[int] = []
        async for chunk in tts.synthesize(LONG):
            sizes.append(len(chunk))
            submitted_at_chunk.append(pool.submitted)
        return sizes, submitted_at_chunk

    sizes, submitted_at_chunk = asyncio.run(main())
    pool.shutdown()
    assert len(sizes) == len(pieces) and all(size > 0 for size in sizes)
    # each chunk is handed over while at most the next piece is being rendered:
    # the first chunk arrives long before the whole text is synthesised
    assert submitted_at_chunk == [min(i + 2, len(pieces)) for i in range(len(pieces))]


def test_closing_the_stream_stops_synthesis(warm_models: None) -> None:
    pieces = split_clauses(LONG)
    pool = CountingExecutor()
    tts = LocalPiperTts(executor=pool)

    async def main() -> int:
        stream = tts.synthesize(LONG)
        first = await anext(stream)
        await stream.aclose()  # the consumer stops after the first chunk (barge-in)
        return len(first)

    assert asyncio.run(main()) > 0
    pool.drain()
    pool.shutdown()
    assert pool.submitted == 2 and pool.ran <= 2 < len(pieces)


def test_cancelling_the_consumer_task_stops_synthesis(warm_models: None) -> None:
    pieces = split_clauses(LONG)
    pool = CountingExecutor()
    tts = LocalPiperTts(executor=pool)

    async def main() -> list[int]:
        got: list[int] = []
        first = asyncio.Event()

        async def consume() -> None:
            async for chunk in tts.synthesize(LONG):
                got.append(len(chunk))
                first.set()

        task = asyncio.create_task(consume())
        await first.wait()
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return got

    got = asyncio.run(main())
    pool.drain()
    pool.shutdown()
    assert 1 <= len(got) < len(pieces)
    assert pool.submitted <= len(got) + 1 < len(pieces)


def test_empty_text_yields_nothing(warm_models: None) -> None:
    async def main() -> list[bytes]:
        return [chunk async for chunk in LocalPiperTts().synthesize("   ")]

    assert asyncio.run(main()) == []


def test_a_steady_voice_says_the_same_text_the_same_way_every_time() -> None:
    async def twice(tts: LocalPiperTts) -> tuple[bytes, bytes]:
        text = "My name is Ana Lopez."
        first = b"".join([chunk async for chunk in tts.synthesize(text)])
        second = b"".join([chunk async for chunk in tts.synthesize(text)])
        return first, second

    first, second = asyncio.run(twice(LocalPiperTts(steady=True, cache=ClauseCache(0))))
    assert first and first == second  # what the simulated caller's reproducible calls rely on
