"""`settings.hold_music`: the WAV file a caller hears, looped, while a warm transfer rings.

    settings:
      hold_music: sounds/hold.wav     # relative to flows.yaml; leave it out for the default

The file is checked when the flow loads (`dialflow check`, a reload, `serve`): it must exist,
be a PCM WAV (8 or 16 bit, mono or stereo, 8 to 48 kHz), at most `MAX_BYTES` long and last
`MIN_SECONDS` to `MAX_SECONDS`; anything else is one `file:line` error with the fix (usually
the `sox` line that converts it). Without the setting the caller hears dialflow's own
generated chime loop (adapters/audio/hold.py: tones, no recording, nobody's copyright).
Only the header is read here (stdlib `wave`); decoding to 8 kHz mu-law is the audio
adapter's. Imports only flows/ modules.
"""

from __future__ import annotations

import wave
from pathlib import Path
from typing import Any

from flows.errors import FlowError

KEY = "hold_music"
MAX_BYTES = 16 * 1024 * 1024  # 3 minutes of 44.1 kHz mono, 90 s of stereo; a film does not
MIN_SECONDS = 0.5
MAX_SECONDS = 300.0  # decoded and cached once per process: 8 KB per second of audio
RATES = (8000, 48000)
CONVERT = "convert it: `sox in.wav -r 8000 -c 1 -b 16 hold.wav`"


def plays_hold_music(steps: list[Any]) -> bool:
    """Whether these steps (a state's entry) loop the hold music while the state waits:
    a warm transfer while it rings, or a `filler` with `hold_music: true`."""
    return any(s.name == "warm_transfer" or (s.name == "filler" and isinstance(s.arg, dict)
                                             and s.arg.get("hold_music") is True)
               for s in steps)


def hold_label(hold_music: str) -> str:
    """How the diagram names the music: the file's name, or the default chime."""
    return f"hold music {Path(hold_music).name}" if hold_music else "hold music (chime)"


def resolve(value: str, flow_path: str) -> Path:
    """The file `value` names, relative to the flow file's directory."""
    given = Path(value).expanduser()
    if given.is_absolute() or flow_path.startswith("<"):
        return given
    return Path(flow_path).resolve().parent / given


def check_hold_music(value: Any, flow_path: str, line: int) -> tuple[str, list[FlowError]]:
    """The resolved path of `settings.hold_music` ('' when it is not usable), and the
    problems with it."""

    def bad(problem: str, fix: str) -> tuple[str, list[FlowError]]:
        return "", [FlowError(flow_path, line, f"settings.hold_music: {problem}", fix)]

    if not isinstance(value, str) or not value.strip():
        return bad(f"is {value!r}", "write the path of a WAV file, e.g. "
                   "`hold_music: sounds/hold.wav` (leave it out for the default chime)")
    path = resolve(value.strip(), flow_path)
    if path.suffix.lower() != ".wav":
        return bad(f"'{value}' is not a .wav file", CONVERT)
    try:
        size = path.stat().st_size
    except OSError:
        return bad(f"no file '{value}' (looked for {path})",
                   "give the path relative to the flow file, or leave the setting out")
    if size > MAX_BYTES:
        return bad(f"'{value}' is {size // 1024} KB, more than {MAX_BYTES // 1024 // 1024} MB",
                   f"shorten it (it loops): {CONVERT}")
    try:
        with wave.open(str(path), "rb") as wav:
            channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
            seconds = wav.getnframes() / rate if rate else 0.0
    except (wave.Error, EOFError, OSError) as exc:
        return bad(f"'{value}' is not a PCM WAV file ({exc})", CONVERT)
    if channels not in (1, 2) or width not in (1, 2):
        return bad(f"'{value}' has {channels} channels of {8 * width}-bit samples",
                   f"use 8- or 16-bit mono or stereo: {CONVERT}")
    if not RATES[0] <= rate <= RATES[1]:
        return bad(f"'{value}' is sampled at {rate} Hz", f"use 8000 to 48000 Hz: {CONVERT}")
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        return bad(f"'{value}' lasts {seconds:.1f} s", f"use {MIN_SECONDS:g} to "
                   f"{MAX_SECONDS:g} s of audio (it loops while the phone rings)")
    return str(path), []
