"""Whisper segments -> one transcript and confidence; the real model on silence."""

from __future__ import annotations

import math
from dataclasses import dataclass

from local_speech_kit import silence

from adapters.local.transcribe import Transcript, combine, transcribe


@dataclass
class Segment:
    text: str
    avg_logprob: float
    no_speech_prob: float


def test_segments_join_and_confidence_weighs_by_text_length() -> None:
    result = combine([Segment(" Book it", -0.1, 0.0), Segment(" for Tuesday. ", -0.5, 0.2)])
    assert result.text == "Book it for Tuesday."
    expected = (math.exp(-0.1) * 7 + math.exp(-0.5) * 0.8 * 12) / 19
    assert result.confidence == round(expected, 3)


def test_segments_whisper_calls_silence_are_dropped() -> None:
    silent = Segment(" Thank you.", -1.2, 0.9)
    assert combine([silent, Segment("  ", -0.1, 0.0)]) == Transcript("", 0.0)
    assert combine([Segment(" .", -0.9, 0.95), Segment("...", -0.1, 0.0)]) == Transcript("", 0)
    kept = combine([silent, Segment("Yes", -0.2, 0.1)])
    assert kept.text == "Yes" and 0 < kept.confidence < 1


def test_whisper_hears_nothing_in_silence(warm_models: None) -> None:
    assert transcribe(silence(1500)) == Transcript("", 0.0)
    assert transcribe(b"") == Transcript("", 0.0)
