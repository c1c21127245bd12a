"""The G.711 mu-law codec shared by every adapter: encode, decode, resample.

The format itself (8 kHz mono mu-law in 20 ms frames of 160 bytes) and framing are defined
once in `engine.audio_format`; Twilio, the offline speech stack, the prompt cache and the
simulated caller all use this codec, so it lives with no provider. The codec is bit-exact with
the `audioop.lin2ulaw`/`ulaw2lin` that Python 3.13 removed. `Resampler` converts int16 PCM
between rates chunk by chunk (a short low-pass when going down, then linear interpolation),
so a stream resampled in pieces equals the stream resampled at once. numpy only, no I/O.
"""

from __future__ import annotations

import numpy as np

from engine.audio_format import SAMPLE_RATE

_SEG_ENDS = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_FILTER_TAPS = 31


def lin2ulaw(samples: np.ndarray) -> bytes:
    """int16 samples -> mu-law bytes, one byte per sample (bit-exact with audioop)."""
    arr = np.asarray(samples)
    if arr.dtype != np.int16:
        raise TypeError(f"lin2ulaw takes int16 samples, got {arr.dtype}")
    v = arr.astype(np.int32) >> 2
    mask = np.where(v < 0, 0x7F, 0xFF)
    mag = np.minimum(np.abs(v), 8159) + 0x21
    seg = np.searchsorted(_SEG_ENDS, mag)
    u = np.where(seg >= 8, 0x7F, (seg << 4) | ((mag >> (seg + 1)) & 0xF))
    return ((u ^ mask) & 0xFF).astype(np.uint8).tobytes()


def ulaw2lin(data: bytes) -> np.ndarray:
    """mu-law bytes -> int16 samples (bit-exact with audioop)."""
    u = ~np.frombuffer(data, np.uint8).astype(np.int32) & 0xFF
    x = ((((u & 0x0F) << 3) + 0x84) << ((u >> 4) & 7)) - 0x84
    return np.where(u & 0x80, -x, x).astype(np.int16)


def _lowpass(cutoff: float) -> np.ndarray:
    """Windowed-sinc (Hamming) low-pass; `cutoff` in cycles per input sample, unit DC gain."""
    n = np.arange(_FILTER_TAPS) - (_FILTER_TAPS - 1) / 2
    taps = 2 * cutoff * np.sinc(2 * cutoff * n) * np.hamming(_FILTER_TAPS)
    return taps / taps.sum()


class Resampler:
    """Streaming int16 resampler from `src_rate` to `dst_rate`.

    Going down, a 31-tap low-pass at 90% of the new Nyquist keeps tones above it from
    aliasing; then output samples are read off the filtered signal by linear interpolation
    at exact rational positions, so chunking never drifts or clicks. The filter delays the
    signal by 15 input samples (under 1 ms at 16 kHz and above).
    """

    def __init__(self, src_rate: int, dst_rate: int) -> None:
        if src_rate <= 0 or dst_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {src_rate} -> {dst_rate}")
        self.src_rate = src_rate
        self.dst_rate = dst_rate
        self._taps = _lowpass(0.45 * dst_rate / src_rate) if dst_rate < src_rate else None
        self._history = np.zeros(_FILTER_TAPS - 1) if self._taps is not None else None
        self._tail = np.zeros(0)  # the last filtered sample, for interpolating across chunks
        self._base = 0  # global index of the first sample in `_tail + next chunk`
        self._k = 0  # index of the next output sample

    def process(self, samples: np.ndarray) -> np.ndarray:
        """Resample the next chunk; returns the int16 output samples it completes."""
        x = np.asarray(samples, dtype=np.float64).ravel()
        if self.src_rate == self.dst_rate:
            return x.astype(np.int16)
        if self._taps is not None and self._history is not None:
            padded = np.concatenate([self._history, x])
            x = np.convolve(padded, self._taps, mode="valid")
            self._history = padded[len(padded) - (_FILTER_TAPS - 1) :]
        buf = np.concatenate([self._tail, x])
        if len(buf) == 0:
            return np.zeros(0, np.int16)
        last = self._base + len(buf) - 1
        # output k sits at input position k * src / dst; emit every k with position <= last
        k_end = (last * self.dst_rate) // self.src_rate + 1
        ks = np.arange(self._k, k_end)
        positions = ks * (self.src_rate / self.dst_rate)
        out = np.interp(positions, self._base + np.arange(len(buf)), buf)
        self._k = max(self._k, k_end)
        self._tail = buf[-1:]
        self._base = last
        return np.clip(np.rint(out), -32768, 32767).astype(np.int16)


def resample(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Resample a whole int16 signal at once (see `Resampler`). For a stream, keep one
    `Resampler` per call instead: resampling each chunk on its own loses continuity."""
    return Resampler(src_rate, dst_rate).process(samples)


def to_float32(samples: np.ndarray) -> np.ndarray:
    """int16 samples -> float32 in [-1, 1), what speech-to-text models take."""
    return (np.asarray(samples, dtype=np.float32) / 32768.0).astype(np.float32)


def ulaw_to_float16k(ulaw: bytes) -> np.ndarray:
    """Caller audio as Twilio sends it (8 kHz mu-law) -> 16 kHz float32 for STT."""
    return to_float32(resample(ulaw2lin(ulaw), SAMPLE_RATE, 16000))


def pcm_to_ulaw8k(samples: np.ndarray, src_rate: int) -> bytes:
    """Speech as TTS makes it (int16 at `src_rate`) -> 8 kHz mu-law for Twilio."""
    return lin2ulaw(resample(samples, src_rate, SAMPLE_RATE))
