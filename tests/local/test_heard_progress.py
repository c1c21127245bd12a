"""`dialflow call --url` shows a remote agent's sentence while it plays: its start (cut at a
pause, transcribed, ending in " …") once 1.6 s were heard, then the rest when it ends, marked
when a barge-in cut it off; the caller's next line never waits for the rest's transcription.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest
from local_speech_kit import BOOKING

from adapters.audio.mulaw import lin2ulaw
from adapters.twilio.caller import HeardSegment
from engine.app.callsim.heard_progress import ProgressiveHeardWords, quiet_cut
from engine.app.callsim.narrator import Narrator, Screen
from engine.audio_format import SAMPLE_RATE


class FakeCaller:
    def __init__(self) -> None:
        self.segments: list[HeardSegment] = []


class CountingWords(ProgressiveHeardWords):
    """Transcribes to "N bytes"; the rest of a line waits for `release` (a slow whisper)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def rest(self, index: int, segment: HeardSegment) -> str:
        await self.release.wait()
        return await super().rest(index, segment)

    async def _text(self, ulaw: bytes) -> str:
        return f"{len(ulaw)} bytes"


def tone(seconds: float) -> bytes:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return lin2ulaw((np.sin(2 * np.pi * 300 * t) * 8000).astype(np.int16))


def silence(seconds: float) -> bytes:
    return b"\xff" * int(seconds * SAMPLE_RATE)


def test_the_cut_falls_in_the_pause_between_words() -> None:
    audio = tone(1.1) + silence(0.12) + tone(1.0)
    cut = quiet_cut(audio)
    assert 1.1 * SAMPLE_RATE < cut < 1.22 * SAMPLE_RATE


def test_a_line_is_shown_while_it_plays_and_completed_when_it_ends(
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def scenario() -> None:
        caller, words = FakeCaller(), CountingWords()
        screen = Screen(asyncio.get_running_loop().time())
        narrator = Narrator(caller, screen, words)
        segment = HeardSegment(screen.start + 2.0, bytearray(tone(0.5)))
        caller.segments.append(segment)
        await narrator.catch_up()
        assert capsys.readouterr().out == ""  # not enough heard yet
        segment.audio += silence(0.6) + tone(0.6)  # 1.7 s heard, still playing
        await narrator.catch_up()
        head = capsys.readouterr().out
        assert head.startswith("00:02.0  AGENT   ") and head.rstrip().endswith(" …")
        segment.audio += tone(0.9)
        segment.cut_off = True  # the caller barged in
        await asyncio.wait_for(narrator.settle(), 5)  # does not wait for the rest
        assert capsys.readouterr().out == ""
        words.release.set()
        await narrator.catch_up()
        rest = capsys.readouterr().out.splitlines()
        assert rest[0].startswith("00:02.0  AGENT   … ") and rest[0].endswith(" bytes")
        assert "[cut off: the caller spoke over it]" in rest[1]

    asyncio.run(scenario())


def test_a_short_line_is_shown_whole_when_it_ends(capsys: pytest.CaptureFixture[str]) -> None:
    async def scenario() -> None:
        caller = FakeCaller()
        screen = Screen(asyncio.get_running_loop().time())
        narrator = Narrator(caller, screen, CountingWords())
        caller.segments.append(HeardSegment(screen.start + 1.0, bytearray(tone(0.8)), mark="s1"))
        await asyncio.wait_for(narrator.settle(), 5)
        assert capsys.readouterr().out == "00:01.0  AGENT   6400 bytes\n"

    asyncio.run(scenario())


def test_real_speech_is_shown_in_two_parts_that_keep_its_words(spoken: dict[str, bytes]) -> None:
    async def scenario() -> tuple[str, str]:
        words = ProgressiveHeardWords()
        audio = spoken[BOOKING]
        playing = HeardSegment(0.0, bytearray(audio[:int(1.7 * SAMPLE_RATE)]))
        head = await words.words(0, playing)
        playing.audio = bytearray(audio)
        playing.mark = "s1"
        return head, await words.rest(0, playing)

    head, rest = asyncio.run(scenario())
    assert head.endswith(" …") and rest.startswith("… ")
    heard = (head + " " + rest).lower()
    assert "book" in heard and "cleaning" in heard and "tuesday" in heard, (head, rest)


def test_a_long_line_gets_more_lines_while_it_plays(capsys: pytest.CaptureFixture[str]) -> None:
    async def scenario() -> None:
        caller, words = FakeCaller(), CountingWords()
        screen = Screen(asyncio.get_running_loop().time())
        narrator = Narrator(caller, screen, words)
        segment = HeardSegment(screen.start + 0.5, bytearray(tone(1.7)))
        caller.segments.append(segment)
        await narrator.catch_up()
        assert capsys.readouterr().out.rstrip().endswith(" …")  # its start
        segment.audio += tone(2.0)
        await narrator.catch_up()
        assert capsys.readouterr().out == ""  # not 3 s more yet
        segment.audio += tone(2.0)
        await narrator.catch_up()
        more = capsys.readouterr().out
        assert more.startswith("00:00.5  AGENT   … ") and more.rstrip().endswith(" …")
        segment.mark = "s1"
        words.release.set()
        await narrator.catch_up()
        assert capsys.readouterr().out.startswith("00:00.5  AGENT   … ")  # the rest

    asyncio.run(scenario())
