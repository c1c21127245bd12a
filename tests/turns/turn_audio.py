"""Audio helpers for the end-of-turn tests (8 kHz mu-law)."""

from __future__ import annotations

from engine.audio_format import SILENCE


def silence(ms: int) -> bytes:
    """`ms` milliseconds of mu-law silence."""
    return bytes([SILENCE]) * (8 * ms)
