"""Measure the offline speech stack on this machine: `python -m adapters.local.measure`.

Prints model load times, piper's time to the first 8 kHz chunk (split into clauses vs the
whole text at once), whisper's time per utterance (inside the worker, and from the end of
the utterance to `caller.utterance` on the loop) and the VAD's cost per 32 ms window.
A developer tool: uses the real models and the wall clock, touches nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from adapters.local import models
from adapters.local.stt import LocalWhisperStt
from adapters.local.transcribe import transcribe
from adapters.local.tts import LocalPiperTts
from adapters.local.vad import WINDOW, EndPointer
from engine.audio_format import SAMPLE_RATE, SILENCE, frames

PHRASES = [
    "I would like to book a cleaning on Tuesday.",
    "Sure, I can help with that. What day works best for you?",
    "My name is Anna Smith, and my number is five five five, one two three four.",
]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def _timed(fn: object) -> float:
    start = time.perf_counter()
    fn()  # type: ignore[operator]
    return time.perf_counter() - start


async def _first_chunk(tts: LocalPiperTts, text: str) -> tuple[float, float, bytes]:
    start = time.perf_counter()
    first = 0.0
    chunks: list[bytes] = []
    async for chunk in tts.synthesize(text):
        if not chunks:
            first = time.perf_counter() - start
        chunks.append(chunk)
    return first, time.perf_counter() - start, b"".join(chunks)


def _whole_text_first_chunk(text: str) -> float:
    start = time.perf_counter()
    next(iter(models.piper_voice().synthesize(text)))
    return time.perf_counter() - start


class _Stamped(ThreadPoolExecutor):
    """The stt pool's shape (one worker) that notes when the last job was submitted."""

    submitted_at = 0.0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        self.submitted_at = time.perf_counter()
        return super().submit(fn, *args, **kwargs)


async def _end_to_emit(audio: bytes, pool: _Stamped) -> float:
    """From the frame that ends the utterance to `caller.utterance` on the loop."""
    done = asyncio.Event()
    emitted_at = 0.0

    def emit(name: str, **_: Any) -> None:
        nonlocal emitted_at
        if name == "caller.utterance":
            emitted_at = time.perf_counter()
            done.set()

    session = LocalWhisperStt(executor=pool).open("measure", emit)
    silence = bytes([SILENCE]) * 160
    for frame in [silence] * 15 + frames(audio) + [silence] * 50:
        session.feed(frame)
    await done.wait()
    await session.close()
    return emitted_at - pool.submitted_at


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="repetitions per phrase")
    runs = parser.parse_args().runs

    print(f"load whisper: {_ms(_timed(models.whisper_model))}")
    print(f"load piper:   {_ms(_timed(models.piper_voice))}")
    print(f"warm whisper: {_ms(_timed(models.warm_whisper))}")
    print(f"warm piper:   {_ms(_timed(models.warm_piper))}")

    tts = LocalPiperTts()
    for text in PHRASES:
        results = [asyncio.run(_first_chunk(tts, text)) for _ in range(runs)]
        whole = [_whole_text_first_chunk(text) for _ in range(runs)]
        audio = results[0][2]
        print(
            f"tts {text[:40]!r}: first chunk {_ms(statistics.median(r[0] for r in results))}"
            f" (unsplit {_ms(statistics.median(whole))}),"
            f" all {_ms(statistics.median(r[1] for r in results))}"
            f" for {len(audio) / SAMPLE_RATE:.2f} s of audio"
        )
        inside = [_timed(lambda audio=audio: transcribe(audio)) for _ in range(runs)]
        pool = _Stamped(max_workers=1)
        emitted = [asyncio.run(_end_to_emit(audio, pool)) for _ in range(runs)]
        pool.shutdown()
        print(
            f"stt {transcribe(audio).text!r}: transcribe {_ms(statistics.median(inside))},"
            f" end of utterance -> caller.utterance {_ms(statistics.median(emitted))}"
        )

    vad = models.take_vad()
    pointer = EndPointer(vad)
    audio = asyncio.run(_first_chunk(tts, PHRASES[0]))[2] * 10
    seconds = _timed(lambda: pointer.push(audio))
    print(f"vad: {seconds / (len(audio) // WINDOW) * 1e6:.0f} us per 32 ms window")
    models.give_back_vad(vad)


if __name__ == "__main__":
    main()
