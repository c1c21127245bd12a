"""Hold music as the sender's background, on virtual time: it plays only while no speech is
queued, speech queued over it goes first, and stopping it sends a `clear` ahead of the
speech (so Twilio drops the buffered music, never the words) and nothing of it after."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator

import pytest

from adapters.twilio.bridge.outbound import OutboundAudio
from adapters.twilio.bridge.speaker import TwilioSpeaker
from engine.clock import run_virtual
from engine.media import FRAME_BYTES

MUSIC, SPEECH = 0x11, 0x77


class Wire:
    def __init__(self) -> None:
        self.sent: list[tuple[float, str]] = []  # (time, "music" | "speech" | "clear" | mark)

    async def send(self, text: str) -> None:
        message = json.loads(text)
        if message["event"] == "media":
            first = base64.b64decode(message["media"]["payload"])[0]
            what = {MUSIC: "music", SPEECH: "speech"}[first]
        else:
            what = message["event"] if message["event"] == "clear" else message["mark"]["name"]
        self.sent.append((asyncio.get_running_loop().time(), what))


class OneTone:
    async def synthesize(self, text: str, call_id: str = "-") -> AsyncIterator[bytes]:
        yield bytes([SPEECH]) * FRAME_BYTES * 10  # 200 ms of "words"


def test_music_waits_for_speech_and_its_stop_never_cuts_the_words() -> None:
    async def main() -> list[str]:
        wire = Wire()
        outbound = OutboundAudio(wire.send, "MZ1")
        outbound.start()
        outbound.frames(bytes([SPEECH]) * FRAME_BYTES * 5)  # words already queued
        outbound.mark("before")
        outbound.background(bytes([MUSIC]) * FRAME_BYTES * 50)
        await asyncio.sleep(0.5)  # the words, then music
        outbound.frames(bytes([SPEECH]) * FRAME_BYTES * 3)  # words over the music...
        outbound.mark("after")
        outbound.stop_background()  # ...and the music stops
        await asyncio.sleep(1.0)
        await outbound.close()
        return [what for _, what in wire.sent]

    sent = run_virtual(main())
    first_music = sent.index("music")
    assert sent[:first_music] == ["speech"] * 5 + ["before"]  # music only once idle
    clear = sent.index("clear")
    assert set(sent[first_music:clear]) == {"music"}
    assert sent[clear + 1:] == ["speech"] * 3 + ["after"]  # clear before the words; no music


def test_the_speakers_hold_loops_until_a_say_and_the_say_is_heard_whole(
        monkeypatch: pytest.MonkeyPatch) -> None:
    loop = bytes([MUSIC]) * FRAME_BYTES * 10  # a 200 ms loop; decoding files: elsewhere
    monkeypatch.setattr("adapters.twilio.bridge.speaker.hold_audio", lambda music: loop)

    async def inline(fn, *args):  # type: ignore[no-untyped-def]
        return fn(*args)

    # On virtual time a worker thread lets the clock run ahead of it: on a loaded machine
    # the 3 s below passed before the music was decoded (1 run in ~15 failed).
    monkeypatch.setattr(asyncio, "to_thread", inline)

    async def main() -> list[str]:
        wire = Wire()
        outbound = OutboundAudio(wire.send, "MZ1")
        outbound.start()
        speaker = TwilioSpeaker(OneTone(), outbound, "CA1")  # type: ignore[arg-type]
        speaker.hold("x.wav")
        assert speaker.holding
        await asyncio.sleep(3.0)  # 15 times round the loop
        await speaker.say("s1", "the result")
        assert not speaker.holding
        await asyncio.sleep(1.0)
        await outbound.close()
        return [what for _, what in wire.sent]

    sent = run_virtual(main())
    clear = sent.index("clear")
    assert sent[:clear].count("music") >= 140  # looped: 3 s of 20 ms frames, less the lead
    assert sent[clear + 1:] == ["speech"] * 10 + ["s1"]


def test_a_clear_does_not_wait_out_the_pacing_of_the_music() -> None:
    # The sender waits for each frame's time; a stop of the music (the join of a warm
    # transfer) must send its clear then, not after that wait, which a teardown right after
    # (the caller moved into the conference) could cut short and lose the clear.
    async def main() -> tuple[float, list[tuple[float, str]]]:
        wire = Wire()
        outbound = OutboundAudio(wire.send, "MZ1")
        outbound.start()
        outbound.background(bytes([MUSIC]) * FRAME_BYTES * 200)
        await asyncio.sleep(1.01)  # mid-way between two paced frames
        stopped = asyncio.get_running_loop().time()
        outbound.stop_background()
        for _ in range(5):
            await asyncio.sleep(0)  # a few loop passes, no time
        sent = list(wire.sent)
        await outbound.close()
        return stopped, sent

    stopped, sent = run_virtual(main())
    assert [what for _, what in sent if what != "music"] == ["clear"]
    (at,) = [t for t, what in sent if what == "clear"]
    assert at == stopped
