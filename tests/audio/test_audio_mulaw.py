"""mu-law codec and resampling (adapters/audio/mulaw.py), framing (engine/audio_format.py)."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from adapters.audio import mulaw
from engine import audio_format

ALL_INT16 = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)


# -- a straightforward scalar G.711 reference (Sun's g711.c, which audioop used) -----------
_SEG_END = (0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF)


def _ref_linear2ulaw(pcm: int) -> int:
    value = pcm >> 2  # audioop works on 14-bit samples
    if value < 0:
        value, mask = -value, 0x7F
    else:
        mask = 0xFF
    value = min(value, 8159) + 0x21
    seg = 0
    while seg < 8 and value > _SEG_END[seg]:
        seg += 1
    if seg >= 8:
        return 0x7F ^ mask
    return ((seg << 4) | ((value >> (seg + 1)) & 0x0F)) ^ mask


def _ref_ulaw2linear(code: int) -> int:
    code = ~code & 0xFF
    t = (((code & 0x0F) << 3) + 0x84) << ((code & 0x70) >> 4)
    return 0x84 - t if code & 0x80 else t - 0x84


@cache
def _encode_table() -> bytes:
    return bytes(_ref_linear2ulaw(int(x)) for x in ALL_INT16)


def test_encode_is_bit_exact_with_the_reference_on_every_int16() -> None:
    assert mulaw.lin2ulaw(ALL_INT16) == _encode_table()


def test_decode_is_bit_exact_with_the_reference_on_every_code() -> None:
    expected = [_ref_ulaw2linear(code) for code in range(256)]
    assert mulaw.ulaw2lin(bytes(range(256))).tolist() == expected


@pytest.mark.parametrize(
    ("sample", "code"),
    [(0, 0xFF), (32767, 0x80), (-32768, 0x00), (8159 * 4, 0x80), (-4, 0x7E), (4, 0xFE)],
)
def test_known_code_points(sample: int, code: int) -> None:
    assert mulaw.lin2ulaw(np.array([sample], np.int16)) == bytes([code])


def test_known_decoded_values() -> None:
    assert mulaw.ulaw2lin(bytes([0xFF, 0x7F, 0x80, 0x00])).tolist() == [0, 0, 32124, -32124]


def test_every_code_but_negative_zero_survives_decode_then_encode() -> None:
    codes = bytes(range(256))
    again = mulaw.lin2ulaw(mulaw.ulaw2lin(codes))
    expected = bytes(0xFF if c == 0x7F else c for c in codes)  # 0x7F is "-0", decodes to 0
    assert again == expected


def test_encode_then_decode_stays_within_one_step_and_is_monotonic() -> None:
    codes = np.frombuffer(mulaw.lin2ulaw(ALL_INT16), np.uint8).astype(np.int32)
    decoded = mulaw.ulaw2lin(mulaw.lin2ulaw(ALL_INT16)).astype(np.int32)
    segment = ((~codes & 0xFF) >> 4) & 7
    assert np.all(np.abs(decoded - ALL_INT16) <= 2 ** (segment + 3))
    assert np.all(np.diff(decoded) >= 0)


def test_encode_refuses_non_int16_input() -> None:
    with pytest.raises(TypeError, match="int16"):
        mulaw.lin2ulaw(np.array([0.5, -0.5]))


def test_frames_split_into_160_bytes_and_pad_with_silence() -> None:
    data = bytes(range(200)) + bytes(200)  # 400 bytes: 2 full frames and 80 left over
    out = audio_format.frames(data)
    assert [len(f) for f in out] == [160, 160, 160]
    assert b"".join(out)[:400] == data
    assert out[-1][80:] == bytes([0xFF]) * 80
    assert audio_format.frames(b"") == []
    assert audio_format.frames(bytes(320)) == [bytes(160), bytes(160)]


def test_frames_keep_or_drop_a_short_last_frame_when_asked() -> None:
    data = bytes(range(200))  # one whole frame and 40 bytes
    assert audio_format.frames(data, last="short") == [data[:160], data[160:]]
    assert audio_format.frames(data, last="drop") == [data[:160]]
    assert audio_format.pad_frame(b"\x01") == b"\x01" + b"\xff" * 159


def _tone(freq: float, rate: int, seconds: float = 1.0, amp: float = 10000) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return (amp * np.sin(2 * np.pi * freq * t)).astype(np.int16)


def _peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples.astype(np.float64)))
    return float(np.argmax(spectrum) * rate / len(samples))


@pytest.mark.parametrize("src", [22050, 16000, 24000, 44100])
def test_downsampling_keeps_a_speech_tone_and_the_duration(src: int) -> None:
    out = mulaw.resample(_tone(440, src), src, 8000)
    assert abs(len(out) - 8000) <= 1
    assert abs(_peak_hz(out, 8000) - 440) <= 2
    rms_in = np.sqrt(np.mean(_tone(440, src).astype(float) ** 2))
    rms_out = np.sqrt(np.mean(out[100:].astype(float) ** 2))
    assert rms_out == pytest.approx(rms_in, rel=0.05)


def test_downsampling_filters_tones_above_the_new_nyquist() -> None:
    # without a low-pass, 6.5 kHz at 22050 Hz would alias to 1.5 kHz at full strength
    out = mulaw.resample(_tone(6500, 22050), 22050, 8000).astype(float)
    rms_out = np.sqrt(np.mean(out[100:] ** 2))
    assert rms_out < 10000 / np.sqrt(2) * 0.05  # at least 26 dB down


def test_resampling_in_chunks_equals_resampling_at_once() -> None:
    signal = _tone(300, 22050) + _tone(1200, 22050, amp=3000)
    whole = mulaw.resample(signal, 22050, 8000)
    resampler = mulaw.Resampler(22050, 8000)
    rng = np.random.default_rng(7)
    pieces, i = [], 0
    while i < len(signal):
        n = int(rng.integers(0, 700))
        pieces.append(resampler.process(signal[i : i + n]))
        i += n
    assert np.array_equal(np.concatenate(pieces), whole)


def test_upsampling_8k_to_16k_float_for_stt() -> None:
    ulaw = mulaw.lin2ulaw(_tone(500, 8000))
    out = mulaw.ulaw_to_float16k(ulaw)
    assert out.dtype == np.float32
    assert abs(len(out) - 16000) <= 2
    assert float(np.max(np.abs(out))) <= 1.0
    assert abs(_peak_hz(out, 16000) - 500) <= 2


def test_pcm_to_ulaw8k_is_resample_then_encode() -> None:
    pcm = _tone(440, 16000, seconds=0.1)
    ulaw = mulaw.pcm_to_ulaw8k(pcm, 16000)
    assert len(ulaw) == len(mulaw.resample(pcm, 16000, 8000))
    assert ulaw == mulaw.lin2ulaw(mulaw.resample(pcm, 16000, 8000))


def test_same_rate_is_identity_and_bad_rates_are_refused() -> None:
    pcm = _tone(440, 8000, seconds=0.01)
    assert np.array_equal(mulaw.resample(pcm, 8000, 8000), pcm)
    with pytest.raises(ValueError, match="positive"):
        mulaw.Resampler(0, 8000)
