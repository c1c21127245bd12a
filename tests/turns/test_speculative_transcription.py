"""Speculative transcription in the local STT session: one VAD window into a silence the
words so far are sent to whisper (if it is idle), the pause's decision reuses that very
transcript, a caller who speaks again cancels it (a job not started never runs, so a stale
job never runs ahead of the committed one), no early job starts while whisper is busy (a
stale one still running included), and the call's reply may start on the early
words before the turn is decided.
The VAD is scripted (one probability per 32 ms window) and whisper a stub, so each test
says exactly where the silences are and what was "said"."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future
from typing import Any

import pytest
from test_local_guesses import Guesses  # type: ignore[import-not-found]
from waiting import until

from adapters.local import models
from adapters.local import stt as stt_module
from adapters.local.deadline import DeadlineExecutor
from adapters.local.stt import LocalWhisperStt
from adapters.local.transcribe import Transcript
from adapters.local.turn import speculation
from adapters.local.vad import WINDOW
from flows.turns import TurnPolicy

POLICY = TurnPolicy(pause_ms=200, max_wait_ms=1000, model="off")
SPEECH, QUIET = 0.9, 0.05
DEADLINE_S = 10.0
BOOKING = "I would like to book a cleaning."


class ScriptedVad:
    """Stands in for silero: the next scripted probability per window, then silence."""

    def __init__(self, probabilities: list[float]) -> None:
        self.probabilities = list(probabilities)

    def process(self, data: memoryview) -> float:
        return self.probabilities.pop(0) if self.probabilities else QUIET

    def reset_states(self) -> None:
        pass


def windows(*runs: tuple[float, int]) -> list[float]:
    """(probability, windows) runs -> one probability per 32 ms window."""
    return [p for p, n in runs for _ in range(n)]


class Whisper:
    """Stands in for `transcribe`: the text for the audio's length (in windows), noted."""

    def __init__(self, texts: Callable[[int], str]) -> None:
        self.texts = texts
        self.ran: list[int] = []  # audio lengths (windows) of the transcriptions that ran

    def __call__(self, ulaw: bytes, prompt: str | None = None) -> Transcript:
        self.ran.append(len(ulaw) // WINDOW)
        return Transcript(self.texts(len(ulaw) // WINDOW), 0.9)


class HeldPool(Executor):
    """An stt pool that reports idle but runs nothing until `release()` (then at once):
    what was asked, what was cancelled before it ran."""

    def __init__(self) -> None:
        self.jobs: list[tuple[Future[Any], Callable[..., Any], tuple[Any, ...]]] = []
        self.held = True

    busy = False

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        self.jobs.append((future, fn, args))
        if not self.held:
            self._run(future, fn, args)
        return future

    @staticmethod
    def _run(future: Future[Any], fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        if future.set_running_or_notify_cancel():
            future.set_result(fn(*args))

    def release(self) -> None:
        self.held = False
        for future, fn, args in self.jobs:
            if not future.done() and not future.running():
                self._run(future, fn, args)


class Emitted(list):  # type: ignore[type-arg]
    def __call__(self, name: str, **fields: Any) -> None:
        self.append((name, fields))

    def texts(self) -> list[str]:
        return [f["text"] for n, f in self if n == "caller.utterance"]


@pytest.fixture
def install(monkeypatch: pytest.MonkeyPatch) -> Callable[[list[float], Whisper], None]:
    def put(probabilities: list[float], whisper: Whisper) -> None:
        vad = ScriptedVad(probabilities)
        monkeypatch.setattr(models, "take_vad", lambda: vad)
        monkeypatch.setattr(models, "give_back_vad", lambda _: None)
        monkeypatch.setattr(speculation, "transcribe", whisper)
        monkeypatch.setattr(stt_module, "transcribe", whisper)
        monkeypatch.setitem(speculation._runs, "typical_s", 0.0)  # whisper quick so far

    return put


def session_on(pool: Executor) -> tuple[Any, Emitted, Guesses]:
    emitted, guesses = Emitted(), Guesses()
    session = LocalWhisperStt(executor=pool).open("call-early", emitted)
    session.turn_policy = lambda: POLICY
    session.speculation = guesses
    return session, emitted, guesses


async def feed(session: Any, count: int, after: Callable[[int], None] | None = None) -> None:
    """Feed `count` windows of audio, yielding to the loop after each."""
    for index in range(count):
        session.feed(b"\xff" * WINDOW)
        await asyncio.sleep(0)
        if after is not None:
            after(index)


WORDS = 20  # windows of speech: 640 ms


def test_a_committed_turn_reuses_the_transcript_started_before_its_pause(
        install: Any) -> None:
    whisper = Whisper(lambda n: "I would like to book a cleaning.")
    install(windows((QUIET, 5), (SPEECH, WORDS)), whisper)
    pool = HeldPool()
    asked_at: list[int] = []  # windows fed when each transcription was asked

    async def main() -> tuple[Emitted, Guesses]:
        session, emitted, guesses = session_on(pool)

        def note(index: int) -> None:
            while len(asked_at) < len(pool.jobs):
                asked_at.append(index)

        await feed(session, 5 + WORDS + 3, note)  # 96 ms of silence: short of the pause
        assert len(pool.jobs) == 1 and not emitted.texts()  # asked already, undecided
        pool.release()
        await until(lambda: guesses, "the early words reach the speculator")
        await feed(session, 8, note)  # the pause (224 ms): the decision ends the turn
        await until(lambda: emitted.texts(), "the committed utterance")
        await session.close()
        return emitted, guesses

    emitted, guesses = asyncio.run(main())
    first_silent = 5 + WORDS  # index of the first silent window
    assert asked_at == [first_silent]  # one VAD window into the silence, not at the pause
    assert whisper.ran == [first_silent + 1]  # transcribed once: pre-roll, speech, 1 quiet
    assert emitted.texts() == ["I would like to book a cleaning."]
    assert guesses == [("guess", "I would like to book a cleaning.")]  # before the decision


def test_a_stale_early_job_is_cancelled_and_never_runs_ahead_of_the_committed_one(
        install: Any) -> None:
    whisper = Whisper(lambda n: "I would like to" if n < 40 else BOOKING)
    # speech, a 96 ms gap (a comma: past the early start, short of the pause), speech, end
    install(windows((QUIET, 5), (SPEECH, WORDS), (QUIET, 3), (SPEECH, WORDS)), whisper)
    pool = HeldPool()

    async def main() -> tuple[Emitted, Guesses]:
        session, emitted, guesses = session_on(pool)
        await feed(session, 5 + WORDS + 3 + WORDS + 8)  # through the gap to the pause
        pool.release()
        await until(lambda: emitted.texts(), "the committed utterance")
        await session.close()
        return emitted, guesses

    emitted, guesses = asyncio.run(main())
    stale, committed = pool.jobs[0][0], pool.jobs[-1][0]
    assert len(pool.jobs) == 2 and stale.cancelled()  # asked at the gap, cancelled there
    assert committed.done() and not committed.cancelled()
    assert whisper.ran == [5 + WORDS + 3 + WORDS + 1]  # only the committed one ran
    assert emitted.texts() == ["I would like to book a cleaning."]
    assert [g for g in guesses if g[0] == "guess"] == [("guess", BOOKING)]


def test_no_early_job_starts_while_whisper_is_busy_and_the_pause_transcribes_itself(
        install: Any) -> None:
    gate, running = threading.Event(), threading.Event()
    whisper = Whisper(lambda n: "I would like to book a cleaning.")

    def slow(ulaw: bytes, prompt: str | None = None) -> Transcript:
        if not running.is_set():  # the first (early) job: still running at the next gaps
            running.set()
            gate.wait(DEADLINE_S)
        return whisper(ulaw, prompt)

    install(windows((QUIET, 5), (SPEECH, WORDS), (QUIET, 3), (SPEECH, 4), (QUIET, 3),
                    (SPEECH, WORDS)), slow)  # type: ignore[arg-type]
    pool = DeadlineExecutor(1)  # the shared stt pool's kind
    asked: list[int] = []  # audio lengths (windows) of the transcriptions asked

    async def main() -> Emitted:
        session, emitted, _ = session_on(pool)
        submit = pool.submit

        def noting(fn: Any, /, *args: Any, **kwargs: Any) -> Any:
            asked.append(len(args[0]) // WINDOW)
            return submit(fn, *args, **kwargs)

        pool.submit = noting  # type: ignore[method-assign]
        await feed(session, 5 + WORDS + 1)
        await asyncio.to_thread(running.wait, DEADLINE_S)  # the early job runs
        await feed(session, 2 + 4 + 3 + WORDS + 8)  # resume (stale), a second gap, the end
        gate.set()
        await until(lambda: emitted.texts(), "the committed utterance")
        await session.close()
        return emitted

    emitted = asyncio.run(main())
    pool.shutdown()
    end = 5 + WORDS + 3 + 4 + 3 + WORDS  # the first silent window of the last silence
    # the first gap's early job, which went stale while running; nothing early at the
    # second gap nor at the end (whisper was busy): the pause transcribed the same audio
    # an early start would have
    assert asked == [5 + WORDS + 1, end + 1]
    assert emitted.texts() == ["I would like to book a cleaning."]


def test_no_early_job_starts_while_whisper_runs_slower_than_the_limit(install: Any) -> None:
    whisper = Whisper(lambda n: BOOKING)
    install(windows((QUIET, 5), (SPEECH, WORDS)), whisper)
    speculation._runs["typical_s"] = speculation.EARLY_RUN_LIMIT_S * 2  # a loaded machine
    pool = HeldPool()

    async def main() -> tuple[Emitted, int]:
        session, emitted, _ = session_on(pool)
        await feed(session, 5 + WORDS + 3)  # past the early start, short of the pause
        asked_early = len(pool.jobs)
        await feed(session, 8)
        pool.release()
        await until(lambda: emitted.texts(), "the committed utterance")
        await session.close()
        return emitted, asked_early

    emitted, asked_early = asyncio.run(main())
    assert asked_early == 0 and len(pool.jobs) == 1  # asked at the pause, not before
    assert whisper.ran == [5 + WORDS + 1]  # on the audio an early start would have had
    assert emitted.texts() == [BOOKING]
