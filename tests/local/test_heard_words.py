"""`dialflow call --url` prints the agent's words: what the caller heard, transcribed by the
offline whisper model (a remote server's words reach the caller only as audio)."""

from __future__ import annotations

import asyncio

from local_speech_kit import BOOKING

from adapters.twilio.caller import HeardSegment
from engine.app.callsim.narrator import HeardWords


def test_heard_audio_is_transcribed_to_the_agent_s_words(spoken: dict[str, bytes]) -> None:
    segment = HeardSegment(0.0, bytearray(spoken[BOOKING]), mark="s1")
    text = asyncio.run(HeardWords().words(0, segment))
    words = text.lower()
    assert "book" in words and "cleaning" in words and "tuesday" in words, text


def test_silence_says_no_words_were_recognised(warm_models: None) -> None:
    segment = HeardSegment(0.0, bytearray(b"\xff" * 8000), mark="s1")
    assert "no words recognised" in asyncio.run(HeardWords().words(0, segment))
