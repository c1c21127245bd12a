"""Hold audio as 8 kHz mu-law, ready to loop: a flow's `settings.hold_music` WAV, or the
default chime.

`hold_audio(path)` decodes the WAV once per process and file version (path, size, mtime:
an edited file is read again) and keeps the result; `path=""` is `default_chime()`, a soft
eight-second arpeggio of sine tones generated here (no recording: nothing to license). The
flow loader already checked the file (flows/hold_music.py); a file that changed since and no
longer decodes raises `HoldMusicError`, and the caller hears the chime instead. Reads only
the file it is given; numpy only.
"""

from __future__ import annotations

import functools
import os
import wave

import numpy as np

from adapters.audio.mulaw import pcm_to_ulaw8k
from engine.audio_format import FRAME_BYTES, SAMPLE_RATE
from flows.hold_music import MAX_BYTES, MAX_SECONDS

CHIME_NOTES = (261.63, 329.63, 392.00, 523.25, 392.00, 329.63, 293.66, 349.23)  # C E G C' …
NOTE_SECONDS = 1.0
CHIME_LEVEL = 0.18  # of full scale: music on hold is background, not an alarm


class HoldMusicError(ValueError):
    """The hold file cannot be decoded now (it changed since the flow was checked)."""


def hold_audio(path: str = "") -> bytes:
    """The loop for `path` ('' = the default chime), whole 20 ms frames of mu-law."""
    if not path:
        return default_chime()
    try:
        info = os.stat(path)
    except OSError as exc:
        raise HoldMusicError(f"hold music file unreadable: {type(exc).__name__}") from None
    return _decoded(path, info.st_size, info.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _decoded(path: str, size: int, mtime_ns: int) -> bytes:
    if size > MAX_BYTES:
        raise HoldMusicError(f"hold music file is {size} bytes, more than {MAX_BYTES}")
    try:
        with wave.open(path, "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            if wav.getnframes() > MAX_SECONDS * rate or width not in (1, 2) or not rate:
                raise HoldMusicError("hold music file is too long or not 8/16-bit PCM")
            raw = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, OSError) as exc:
        raise HoldMusicError(f"hold music file does not decode: {exc}") from None
    if width == 1:  # 8-bit WAV is unsigned
        samples = ((np.frombuffer(raw, np.uint8).astype(np.int16) - 128) << 8).astype(np.int16)
    else:
        samples = np.frombuffer(raw, "<i2")
    if channels > 1:
        usable = len(samples) - len(samples) % channels
        samples = samples[:usable].reshape(-1, channels).mean(axis=1).astype(np.int16)
    return _whole_frames(pcm_to_ulaw8k(samples, rate))


@functools.cache
def default_chime() -> bytes:
    """Eight soft notes, each fading in and out, so the loop has no click at its seam."""
    t = np.arange(int(NOTE_SECONDS * SAMPLE_RATE)) / SAMPLE_RATE
    envelope = np.sin(np.pi * t / NOTE_SECONDS) ** 2
    notes = [envelope * (np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)) / 1.3
             for f in CHIME_NOTES]
    pcm = (np.concatenate(notes) * CHIME_LEVEL * 32767).astype(np.int16)
    return _whole_frames(pcm_to_ulaw8k(pcm, SAMPLE_RATE))


def _whole_frames(ulaw: bytes) -> bytes:
    whole = len(ulaw) - len(ulaw) % FRAME_BYTES
    if whole == 0:
        raise HoldMusicError("hold music is shorter than one 20 ms frame")
    return ulaw[:whole]
