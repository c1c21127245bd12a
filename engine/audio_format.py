"""The audio every port carries: 8 kHz mono G.711 mu-law, one byte per sample, 20 ms frames.

This is the one definition of the format (sample rate, frame length, the silence byte) and
of cutting audio into frames; Twilio Media Streams, the STT and TTS ports, the prompt cache
and the simulated caller all use it. The codec itself (mu-law <-> PCM, resampling) is in
`adapters.audio.mulaw`. Pure bytes arithmetic; imports nothing.
"""

from __future__ import annotations

from typing import Literal

SAMPLE_RATE = 8000
FRAME_MS = 20
FRAME_BYTES = SAMPLE_RATE * FRAME_MS // 1000  # 160 samples of one byte each
BYTES_PER_SECOND = SAMPLE_RATE
SILENCE = 0xFF  # mu-law code of linear 0

LastFrame = Literal["pad", "short", "drop"]


def frames(audio: bytes, last: LastFrame = "pad", size: int = FRAME_BYTES) -> list[bytes]:
    """Cut audio into frames of `size` bytes (20 ms). A shorter last frame is padded with
    silence (`pad`), kept as it is (`short`) or left out (`drop`)."""
    out = [audio[i : i + size] for i in range(0, len(audio), size)]
    if out and len(out[-1]) < size:
        if last == "pad":
            out[-1] = pad_frame(out[-1], size)
        elif last == "drop":
            out.pop()
    return out


def pad_frame(piece: bytes, size: int = FRAME_BYTES) -> bytes:
    """`piece` filled up to a whole frame with silence."""
    return piece + bytes([SILENCE]) * (size - len(piece))
