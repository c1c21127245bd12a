"""Whisper decodes a turn in a window sized to it (not faster-whisper's 30 s), greedily, with a
bounded number of tokens; the real model still hears the words."""

from __future__ import annotations

from typing import Any

import numpy as np
from local_speech_kit import BOOKING, words

from adapters.audio.mulaw import ulaw_to_float16k
from adapters.local import models, whisper_window
from adapters.local.transcribe import transcribe
from adapters.local.whisper_window import MAX_FRAMES, MIN_WINDOW_S, PAD_SECONDS, window_frames

SECOND = 16_000


def test_the_window_is_the_minimum_or_the_turn_plus_padding_within_30_s() -> None:
    assert window_frames(2 * SECOND) == MIN_WINDOW_S * 100
    long = 20 * SECOND
    assert window_frames(long) == (20 + PAD_SECONDS) * 100
    assert window_frames(40 * SECOND) == MAX_FRAMES
    assert all(window_frames(n) % 2 == 0 for n in (1, 12_345, 16_001 * 13))


class SpyModel:
    """Forwards to the real whisper model, noting the encoder's input and the decode's
    arguments."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.encoded: list[tuple[int, ...]] = []
        self.generated: list[dict[str, Any]] = []
        outer = self

        class Generator:
            def __getattr__(self, name: str) -> Any:
                return getattr(real.model, name)

            def generate(self, *args: Any, **kwargs: Any) -> Any:
                outer.generated.append(kwargs)
                return real.model.generate(*args, **kwargs)

        self.model = Generator()

    def encode(self, features: np.ndarray) -> Any:
        self.encoded.append(features.shape)
        return self.real.encode(features)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


def test_a_turn_is_encoded_in_its_window_and_decoded_greedily_within_a_budget(
        spoken: dict[str, bytes]) -> None:
    audio = ulaw_to_float16k(spoken[BOOKING])
    spy = SpyModel(models.whisper_model())
    first = whisper_window.decode(spy, audio)  # type: ignore[arg-type]
    assert spy.encoded == [(80, window_frames(len(audio)))]
    assert spy.encoded[0][1] < MAX_FRAMES
    kwargs = spy.generated[0]
    assert kwargs["beam_size"] == 1
    seconds = len(audio) / SECOND  # the prompt is a few tokens, the budget ~10 a second
    assert kwargs["max_length"] <= 16 + whisper_window.TOKENS_PER_SECOND * seconds + 8
    assert "<|" not in first.text  # the timestamps are not text
    assert whisper_window.decode(spy, audio) == first  # greedy: the same words every time
    assert {"book", "cleaning", "tuesday"} <= set(words(first.text))


def test_transcribe_uses_the_window_and_hears_the_booking(spoken: dict[str, bytes]) -> None:
    result = transcribe(spoken[BOOKING])
    assert {"book", "cleaning", "tuesday"} <= set(words(result.text))
    assert 0 < result.confidence <= 1
