"""Smart Turn v3.2 from the pipecat-ai wheel, run on our 8 kHz phone audio.

The model is installed by `make install` (`pip install --no-deps pipecat-ai==1.14.0`); when it
is missing these tests fail and say so (they never skip)."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from adapters.audio.mulaw import lin2ulaw
from adapters.local.tts import LocalPiperTts
from adapters.local.turn import smart_turn
from engine.audio_format import SAMPLE_RATE, SILENCE


@pytest.fixture(scope="module")
def model() -> smart_turn.SmartTurn:
    try:
        return smart_turn.shared()
    except smart_turn.TurnModelMissing as exc:
        pytest.fail(str(exc))


def _spoken(text: str) -> bytes:
    async def speak() -> bytes:
        tts = LocalPiperTts(steady=True)
        return b"".join([chunk async for chunk in tts.synthesize(text)])

    return asyncio.run(speak()) + bytes([SILENCE]) * 1600  # + the 200 ms pause


def test_the_model_file_comes_from_the_installed_wheel() -> None:
    path = smart_turn.model_path()
    assert path.name == "smart-turn-v3.2-cpu.onnx" and path.stat().st_size > 5_000_000


def test_upsampling_keeps_the_voice_band_and_adds_no_image() -> None:
    t = np.arange(SAMPLE_RATE) / SAMPLE_RATE
    tone = (8000 * np.sin(2 * np.pi * 1000 * t)).astype(np.int16)
    up = smart_turn.upsample_8k_to_16k(tone)
    assert len(up) == 2 * len(tone)
    spectrum = np.abs(np.fft.rfft(up[1000:-1000] * np.hanning(len(up) - 2000)))
    freqs = np.fft.rfftfreq(len(up) - 2000, 1 / 16000)
    at = lambda f: spectrum[np.argmin(np.abs(freqs - f))]  # noqa: E731
    assert at(1000) > 1000 * at(7000)  # the 7 kHz mirror of 1 kHz is gone
    linear = np.interp(np.arange(2 * len(tone)) / 2, np.arange(len(tone)), tone / 32768.0)
    lin_spec = np.abs(np.fft.rfft(linear[1000:-1000] * np.hanning(len(up) - 2000)))
    assert lin_spec[np.argmin(np.abs(freqs - 7000))] > 10 * at(7000)


def test_the_features_are_whisper_log_mel_of_an_8_second_window() -> None:
    features = smart_turn.model_input(np.zeros(16000, np.float32))
    assert features.shape == (1, 80, 800) and features.dtype == np.float32


def test_a_trailing_and_is_unfinished_and_a_question_finished(model: smart_turn.SmartTurn) -> None:
    unfinished = model.predict(_spoken("I need to cancel my appointment and"))
    finished = model.predict(_spoken("Are you open on Saturday?"))
    assert unfinished < 0.5 < finished


def test_silence_and_nothing_are_no_finished_turn(model: smart_turn.SmartTurn) -> None:
    assert model.predict(b"") == 0.0
    assert 0.0 <= model.predict(lin2ulaw(np.zeros(8000, np.int16))) <= 1.0
