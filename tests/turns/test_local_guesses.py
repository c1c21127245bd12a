"""The local STT session hands its transcript at a pause to the call's speculator when the
turn waits for more, withdraws it when the caller goes on, and commits the very same words
at the cap (so the speculated reply is used). Real silero VAD on piper speech; whisper is
the counting stub of test_two_step_end_of_turn."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from test_two_step_end_of_turn import (  # type: ignore[import-not-found]
    Whisper,
    _feed,
    _open,
    _settle,
    whisper,  # noqa: F401  (fixture)
)

from adapters.local.tts import LocalPiperTts
from engine.audio_format import SILENCE


def silence(ms: int) -> bytes:
    return bytes([SILENCE]) * (8 * ms)


@pytest.fixture(scope="module")
def speech() -> bytes:
    """A booking line said once by the piper voice (8 kHz mu-law)."""
    tts = LocalPiperTts(steady=True)

    async def chunks() -> list[bytes]:
        return [chunk async for chunk in tts.synthesize("I would like to book a cleaning")]

    return b"".join(asyncio.run(chunks()))


class Guesses(list):  # type: ignore[type-arg]
    """Stands in for the call's Speculator: what it was told, in order."""

    def guess(self, text: str, confidence: float | None = None) -> bool:
        self.append(("guess", text))
        return True

    def drop(self, why: str = "") -> None:
        self.append(("drop", ""))


def _session() -> tuple[Any, Any, Guesses]:
    session, emitted = _open()
    guesses = Guesses()
    session.speculation = guesses
    return session, emitted, guesses


def test_a_waiting_turn_is_guessed_then_withdrawn_when_the_caller_goes_on(
        speech: bytes, whisper: Whisper) -> None:  # noqa: F811
    whisper.texts = ["My number is five five five",
                     "My number is five five five, I would like to book a cleaning."]

    async def main() -> tuple[Guesses, list[str]]:
        session, emitted, guesses = _session()
        await _feed(session, silence(300) + speech + silence(260))
        await _settle(session)
        await _feed(session, silence(400) + speech + silence(260))  # the caller goes on
        await _settle(session)
        await _settle(session)
        await session.close()
        return guesses, [u["text"] for u in emitted.utterances()]

    guesses, texts = asyncio.run(main())
    assert guesses[:2] == [("guess", "My number is five five five"), ("drop", "")]
    assert texts == ["My number is five five five, I would like to book a cleaning."]


def test_the_cap_commits_the_guessed_words(speech: bytes, whisper: Whisper) -> None:  # noqa: F811
    whisper.texts = ["I need to cancel and"]

    async def main() -> tuple[Guesses, list[str]]:
        session, emitted, guesses = _session()
        await _feed(session, silence(300) + speech + silence(260))
        await _settle(session)
        await _feed(session, silence(1000))
        await _settle(session)
        await session.close()
        return guesses, [u["text"] for u in emitted.utterances()]

    guesses, texts = asyncio.run(main())
    assert guesses == [("guess", "I need to cancel and")]
    assert texts == ["I need to cancel and"]  # the same words: the speculator's take matches
    assert whisper.calls == 1


def test_a_finished_turn_is_guessed_before_its_decision_and_committed_with_those_words(
        speech: bytes, whisper: Whisper) -> None:  # noqa: F811
    whisper.texts = ["I would like to book a cleaning."]

    async def main() -> tuple[Guesses, list[str]]:
        session, emitted, guesses = _session()
        await _feed(session, silence(300) + speech + silence(260))
        await _settle(session)
        await _settle(session)
        await session.close()
        return guesses, [u["text"] for u in emitted.utterances()]

    guesses, texts = asyncio.run(main())
    # the early transcript starts the reply; the commit carries the same words (it is used)
    assert guesses == [("guess", "I would like to book a cleaning.")]
    assert texts == ["I would like to book a cleaning."] and whisper.calls == 1
