"""The end-of-turn decision at a pause is the same whatever the CPU load.

A busy machine returns the speculative transcript late, after the caller may already have
gone on speaking. The session holds the audio after a pause until the decision is known, so
the turns a call gets depend on the audio alone, not on when whisper answered. Real silero
VAD on real piper speech; whisper is a stub that can be held back (a gate) like a loaded CPU.
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from turn_audio import booking_speech, silence

from adapters.local import stt as stt_module
from adapters.local.stt import HOLD_LIMIT_BYTES, LocalWhisperStt
from adapters.local.transcribe import Transcript
from adapters.local.turn import speculation
from engine.audio_format import frames
from flows.turns import TurnPolicy

POLICY = TurnPolicy(pause_ms=200, max_wait_ms=1000, model="off")


@pytest.fixture(scope="module")
def speech() -> bytes:
    return booking_speech()


class GatedWhisper:
    """Stands in for `transcribe`: answers the scripted texts in order, each only once the
    gate is open (a loaded machine), and counts the calls that began."""

    def __init__(self, texts: list[str], open_gate: bool, default: str = "") -> None:
        self.texts = list(texts)
        self.default = default
        self.gate = threading.Event()
        if open_gate:
            self.gate.set()
        self.calls = 0
        self.second_call = threading.Event()
        self._lock = threading.Lock()

    def __call__(self, ulaw: bytes, prompt: str | None = None) -> Transcript:
        with self._lock:
            self.calls += 1
            text = self.texts.pop(0) if self.texts else self.default
            if self.calls >= 2:
                self.second_call.set()
        if not self.gate.wait(timeout=30):
            raise TimeoutError("the test never opened the gate")
        return Transcript(text, 0.9)


class Emitted(list):  # type: ignore[type-arg]
    def __call__(self, name: str, **fields: Any) -> None:
        self.append((name, fields))

    def texts(self) -> list[str]:
        return [f["text"] for n, f in self if n == "caller.utterance"]


def _install(monkeypatch: pytest.MonkeyPatch, stub: GatedWhisper) -> None:
    monkeypatch.setattr(speculation, "transcribe", stub)
    monkeypatch.setattr(stt_module, "transcribe", stub)


def _open(executor: Any = None) -> tuple[Any, Emitted]:
    emitted = Emitted()
    session = LocalWhisperStt(executor=executor).open("call-load", emitted)
    session.turn_policy = lambda: POLICY
    return session, emitted


async def _feed(session: Any, audio: bytes) -> None:
    for frame in frames(audio):
        session.feed(frame)
        await asyncio.sleep(0)


async def _decided(session: Any) -> None:
    """Wait for the decision started at the last pause."""
    spec = session.turns.current
    if spec is not None and spec.decided is not None:
        await asyncio.wait([spec.decided])


def _call(speech: bytes, stub: GatedWhisper, quick: bool) -> list[str]:
    """The caller says `speech`, pauses 500 ms, says it again and stops. `quick`: every
    decision comes back before the caller resumes; else none does until all was said."""

    async def main() -> list[str]:
        session, emitted = _open()
        await _feed(session, silence(300) + speech + silence(260))  # the pause: a decision
        if quick:
            await _decided(session)
        await _feed(session, silence(240) + speech + silence(260))
        if quick:
            await _decided(session)
        await _feed(session, silence(900))
        stub.gate.set()
        await session.close()
        return emitted.texts()

    return asyncio.run(main())


@pytest.mark.parametrize(("texts", "jobs"), [
    # the first pause ends the turn; the second utterance, 0.5 s later, is also heard again
    # together with the first (within turn.continue_ms): a third job
    (["I would like to book a cleaning.", "Next week."], 3),
    (["I would like to book a", "I would like to book a, I would like to book a cleaning."], 2),
])
def test_the_turns_do_not_depend_on_when_the_transcript_comes_back(
        speech: bytes, monkeypatch: pytest.MonkeyPatch, texts: list[str], jobs: int) -> None:
    quick = GatedWhisper(texts, open_gate=True)
    _install(monkeypatch, quick)
    on_a_quiet_machine = _call(speech, quick, quick=True)
    slow = GatedWhisper(texts, open_gate=False)
    _install(monkeypatch, slow)
    on_a_busy_machine = _call(speech, slow, quick=False)
    assert on_a_quiet_machine == on_a_busy_machine
    expected = texts if texts[0].endswith(".") else texts[1:]
    assert on_a_busy_machine == expected
    assert slow.calls == quick.calls == jobs  # nothing transcribed twice either way


def test_audio_held_for_a_stuck_decision_is_bounded(
        speech: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    stub = GatedWhisper(["I would like to book a"], open_gate=False, default="a cleaning.")
    _install(monkeypatch, stub)
    pool = ThreadPoolExecutor(2)

    async def main() -> tuple[bool, list[str]]:
        session, emitted = _open(pool)
        await _feed(session, silence(300) + speech + silence(260))  # decision 1 is stuck
        said = speech + silence(260)
        rounds = HOLD_LIMIT_BYTES // len(said) + 2
        await _feed(session, b"".join([silence(240) + said] * rounds))
        # past the bound the audio went on undecided: the next pause began transcribing
        began = await asyncio.get_running_loop().run_in_executor(
            None, stub.second_call.wait, 10)
        stub.gate.set()
        await _feed(session, silence(1200))
        await session.close()
        return began, emitted.texts()

    try:
        began, texts = asyncio.run(main())
    finally:
        pool.shutdown()
    assert began
    assert texts and set(texts) == {"a cleaning."}  # the call got its turns once unstuck
