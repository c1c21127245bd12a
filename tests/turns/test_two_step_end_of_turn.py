"""The local STT session ends turns in two steps and transcribes speculatively at the pause.

Real silero VAD on real piper speech; whisper is replaced by a counting stub that answers
with a scripted text, so each test decides what the caller "said"."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from turn_audio import booking_speech, silence

from adapters.local import stt as stt_module
from adapters.local.stt import LocalWhisperStt
from adapters.local.transcribe import Transcript
from adapters.local.turn import speculation
from engine.audio_format import frames
from flows.turns import TurnPolicy

POLICY = TurnPolicy(pause_ms=200, max_wait_ms=1000, model="off")


@pytest.fixture(scope="module")
def speech() -> bytes:
    return booking_speech()


class Whisper:
    """Stands in for `transcribe`: says the next scripted text, counts the calls."""

    def __init__(self, *texts: str) -> None:
        self.texts = list(texts)
        self.calls = 0

    def __call__(self, ulaw: bytes, prompt: str | None = None) -> Transcript:
        self.calls += 1
        return Transcript(self.texts.pop(0) if self.texts else "", 0.9)


class Emitted(list):  # type: ignore[type-arg]
    def __call__(self, name: str, **fields: Any) -> None:
        self.append((name, fields))

    def utterances(self) -> list[dict[str, Any]]:
        return [f for n, f in self if n == "caller.utterance"]


@pytest.fixture
def whisper(monkeypatch: pytest.MonkeyPatch) -> Whisper:
    stub = Whisper()
    monkeypatch.setattr(speculation, "transcribe", stub)
    monkeypatch.setattr(stt_module, "transcribe", stub)
    return stub


async def _feed(session: Any, audio: bytes) -> None:
    for frame in frames(audio):
        session.feed(frame)
        await asyncio.sleep(0)


async def _settle(session: Any) -> None:
    """Wait for the decision started at the last pause (and any delivery) to finish."""
    for _ in range(200):
        spec = session.turns.current
        busy = (spec is not None and spec.decided is not None and not spec.decided.done())
        if not busy and all(t.done() for t in session._tasks):
            return
        await asyncio.sleep(0.01)


def _open(policy: TurnPolicy = POLICY) -> tuple[Any, Emitted]:
    emitted = Emitted()
    session = LocalWhisperStt().open("call-turns", emitted)
    session.turn_policy = lambda: policy
    return session, emitted


def test_a_finished_turn_ends_at_the_short_pause_with_the_speculative_text(
        speech: bytes, whisper: Whisper) -> None:
    whisper.texts = ["I would like to book a cleaning."]

    async def main() -> Emitted:
        session, emitted = _open()
        await _feed(session, silence(300) + speech + silence(260))  # just past the pause
        await _settle(session)
        await _settle(session)
        await session.close()
        return emitted

    emitted = asyncio.run(main())
    assert [u["text"] for u in emitted.utterances()] == ["I would like to book a cleaning."]
    assert whisper.calls == 1  # the speculative transcription was the transcript


def test_an_unfinished_turn_waits_and_the_dropped_speculation_leaves_no_trace(
        speech: bytes, whisper: Whisper) -> None:
    whisper.texts = ["My number is five five five", "My number is five five five, I would "
                     "like to book a cleaning."]

    async def main() -> tuple[Emitted, int]:
        session, emitted = _open()
        await _feed(session, silence(300) + speech + silence(260))
        await _settle(session)
        waited = len(emitted.utterances())  # still waiting: nothing emitted
        await _feed(session, silence(400) + speech + silence(260))  # the caller goes on
        await _settle(session)
        await _settle(session)
        await session.close()
        return emitted, waited

    emitted, waited = asyncio.run(main())
    assert waited == 0
    texts = [u["text"] for u in emitted.utterances()]
    assert texts == ["My number is five five five, I would like to book a cleaning."]
    assert whisper.calls == 2


def test_the_cap_ends_an_unfinished_turn_and_reuses_its_transcript(
        speech: bytes, whisper: Whisper) -> None:
    whisper.texts = ["I need to cancel and"]

    async def main() -> Emitted:
        session, emitted = _open()
        await _feed(session, silence(300) + speech + silence(260))
        await _settle(session)
        await _feed(session, silence(1000))  # up to max_wait_ms of silence
        await _settle(session)
        await session.close()
        return emitted

    emitted = asyncio.run(main())
    assert [u["text"] for u in emitted.utterances()] == ["I need to cancel and"]
    assert whisper.calls == 1


def test_a_caller_who_never_stops_is_cut_at_max_turn(speech: bytes, whisper: Whisper) -> None:
    whisper.texts = ["a very long story"]

    async def main() -> Emitted:
        session, emitted = _open(TurnPolicy(model="off", max_turn_ms=1000))
        await _feed(session, silence(300) + speech * 2)  # no pause in between
        await _settle(session)
        await session.close()
        return emitted

    emitted = asyncio.run(main())
    first = emitted.utterances()[0]
    assert first["text"] == "a very long story" and first["truncated"] is True


def test_voice_onsets_are_reported_for_barge_in(speech: bytes, whisper: Whisper) -> None:
    async def main() -> list[str]:
        session, _ = _open()
        seen: list[str] = []
        session.on_voice = seen.append
        await _feed(session, silence(300) + speech[:1600] + silence(600))
        await _settle(session)
        await session.close()
        return seen

    assert asyncio.run(main())[:1] == ["onset"]
