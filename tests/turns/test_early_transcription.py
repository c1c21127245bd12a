"""Half-way into a pause, an idle whisper starts on the words so far, and the pause's
decision takes that transcript over: on a quiet machine the turn's words are there about
0.1 s sooner. A busy whisper starts nothing early (a job the caller's next word wastes
would hold up other calls), and a caller who goes on speaking drops the early start.
Real silero VAD on real piper speech; whisper is a stub noting when it was asked."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest
from turn_audio import booking_speech, install_whisper, silence

from adapters.local.deadline import DeadlineExecutor
from adapters.local.stt import LocalWhisperStt
from adapters.local.transcribe import Transcript
from adapters.local.vad import WINDOW, EndPointer, Paused, Pausing, Resumed, VadParams
from engine.audio_format import frames
from flows.turns import TurnPolicy

POLICY = TurnPolicy(pause_ms=200, max_wait_ms=1000, model="off")
DEADLINE_S = 10.0


class NotingWhisper:
    """Stands in for `transcribe`; `fed` counts the frames the test has fed so far."""

    def __init__(self) -> None:
        self.fed = 0
        self.asked_at: list[int] = []  # frames fed when each transcription was queued

    def __call__(self, ulaw: bytes, prompt: str | None = None) -> Transcript:
        return Transcript("I would like to book a cleaning.", 0.9)


class NotingPool(DeadlineExecutor):
    """The stt pool, noting when (in frames fed) a transcription was queued."""

    def __init__(self, whisper: NotingWhisper) -> None:
        super().__init__(1)
        self.whisper = whisper

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        if fn is self.whisper:
            self.whisper.asked_at.append(self.whisper.fed)
        return super().submit(fn, *args, **kwargs)


def call(whisper: NotingWhisper, pool: DeadlineExecutor, speech: bytes,
         on_paused: Any = None) -> tuple[list[str], list[int]]:
    """The caller says one finished sentence and stops; (utterances, frames fed at each
    `Paused`)."""

    async def main() -> tuple[list[str], list[int]]:
        emitted: list[tuple[str, dict[str, Any]]] = []
        session = LocalWhisperStt(executor=pool).open(
            "call-early", lambda name, **fields: emitted.append((name, fields)))
        session.turn_policy = lambda: POLICY
        paused_at: list[int] = []
        decide = session.turns.paused

        def paused(event: Paused) -> None:
            paused_at.append(whisper.fed)
            decide(event)
            if on_paused is not None:
                on_paused()

        session.turns.paused = paused  # type: ignore[method-assign]
        for frame in frames(silence(300) + speech + silence(1500)):
            session.feed(frame)
            whisper.fed += 1
            await asyncio.sleep(0)
        await session.close()
        return [f["text"] for n, f in emitted if n == "caller.utterance"], paused_at

    return asyncio.run(main())


@pytest.fixture
def whisper(monkeypatch: pytest.MonkeyPatch) -> NotingWhisper:
    return install_whisper(monkeypatch, NotingWhisper())


@pytest.fixture(scope="module")
def speech() -> bytes:
    return booking_speech()


def test_an_idle_whisper_starts_half_way_into_the_pause_and_the_pause_uses_it(
        whisper: NotingWhisper, speech: bytes) -> None:
    pool = NotingPool(whisper)
    texts, paused_at = call(whisper, pool, speech)
    assert texts == ["I would like to book a cleaning."]
    assert len(paused_at) == 1 and len(whisper.asked_at) == 1  # transcribed once
    assert whisper.asked_at[0] < paused_at[0]  # before the pause was reached
    pool.shutdown()


def test_a_busy_whisper_starts_nothing_before_the_pause(whisper: NotingWhisper,
                                                        speech: bytes) -> None:
    pool = NotingPool(whisper)
    gate, running = threading.Event(), threading.Event()

    def other_call() -> None:  # another call's transcription, until this caller pauses
        running.set()
        gate.wait(DEADLINE_S)

    pool.submit(other_call)
    assert running.wait(DEADLINE_S)
    texts, paused_at = call(whisper, pool, speech, on_paused=gate.set)
    assert texts == ["I would like to book a cleaning."]
    assert len(whisper.asked_at) == 1 and whisper.asked_at[0] >= paused_at[0]
    pool.shutdown()


def test_speech_after_the_half_pause_resumes_and_a_later_half_pause_starts_again() -> None:
    class Scripted:
        def __init__(self, probabilities: list[float]) -> None:
            self.probabilities = probabilities

        def process(self, data: memoryview) -> float:
            return self.probabilities.pop(0)

    speech, quiet = [0.9] * 10, [0.1] * 4  # 4 windows: 128 ms, past 100 ms, short of 200 ms
    pointer = EndPointer(Scripted(speech + quiet + speech + quiet * 2),
                         VadParams(pause_ms=200))
    pointer.early_ms = 100
    events = [e for _ in range(10 + 4 + 10 + 8) for e in pointer.push(b"\xff" * WINDOW)]
    kinds = [type(e) for e in events if isinstance(e, (Pausing, Paused, Resumed))]
    assert kinds == [Pausing, Resumed, Pausing, Paused]
    pausings = [e for e in events if isinstance(e, Pausing)]
    assert [p.pause for p in pausings] == [1, 1]  # both would have been the first pause
