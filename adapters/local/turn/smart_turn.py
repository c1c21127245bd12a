"""`SmartTurn`: the Smart Turn v3.2 end-of-turn model (8 MB int8 ONNX, BSD-2) on onnxruntime.

The model ships inside the `pipecat-ai` wheel (`pipecat/audio/turn/smart_turn/data/`); it is
installed with `pip install --no-deps pipecat-ai==1.14.0` (its own dependencies are not
needed: only the file is read, pipecat is never imported), so nothing downloads at run time.
Input: the last 8 s of the turn at 16 kHz (zero-padded in front), normalised to zero mean
and unit variance, as Whisper log-mel features (80 x 800). Our 8 kHz phone audio is
upsampled 2x with a windowed-sinc low-pass, not read as if it were 16 kHz (a model fed 8 kHz
samples as 16 kHz ones answers "finished" to nearly everything). Output: the probability
that the caller has finished. `predict` blocks for 10-100 ms: run it in `turn_executor()`.
Touches the model file and onnxruntime; shared by every call (the session is thread-safe).
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from pathlib import Path
from typing import Any

import numpy as np

from adapters.audio.mulaw import SAMPLE_RATE, ulaw2lin
from adapters.local import runtime

MODEL_RATE = 16_000
WINDOW_S = 8
_FILE = "audio/turn/smart_turn/data/smart-turn-v3.2-cpu.onnx"
INSTALL = "pip install --no-deps pipecat-ai==1.14.0"
_TAPS = 63


class TurnModelMissing(RuntimeError):
    """The Smart Turn model file is not installed."""


def model_path() -> Path:
    """Where the packaged model is; raises `TurnModelMissing` saying how to install it."""
    spec = importlib.util.find_spec("pipecat")  # finds the package without importing it
    for root in (spec.submodule_search_locations or []) if spec else []:
        path = Path(root) / _FILE
        if path.is_file():
            return path
    raise TurnModelMissing(f"the Smart Turn model is not installed; run: {INSTALL}")


def _upsample_filter() -> np.ndarray:
    """Low-pass at the old Nyquist (4 kHz, a quarter of the new rate), gain 2 for the
    zeros stuffed between the samples."""
    n = np.arange(_TAPS) - (_TAPS - 1) / 2
    taps = 0.5 * np.sinc(0.5 * n) * np.hamming(_TAPS)
    return 2 * taps / taps.sum()


_FILTER = _upsample_filter()


def upsample_8k_to_16k(samples: np.ndarray) -> np.ndarray:
    """int16 samples at 8 kHz -> float32 in [-1, 1) at 16 kHz, without images above 4 kHz."""
    x = np.asarray(samples, dtype=np.float64) / 32768.0
    stuffed = np.zeros(2 * len(x))
    stuffed[::2] = x
    return np.convolve(stuffed, _FILTER, mode="same").astype(np.float32)


@functools.cache
def _extractor() -> Any:
    """faster-whisper's Whisper log-mel front end (the same math as the model's training
    features), sized for an 8 s window."""
    from faster_whisper.feature_extractor import FeatureExtractor

    return FeatureExtractor(feature_size=80, sampling_rate=MODEL_RATE, hop_length=160,
                            chunk_length=WINDOW_S, n_fft=400)


def model_input(audio16k: np.ndarray) -> np.ndarray:
    """The model's `input_features` (1, 80, 800) for 16 kHz float audio of any length."""
    n = MODEL_RATE * WINDOW_S
    x = np.asarray(audio16k, dtype=np.float32)[-n:]
    x = np.pad(x, (n - len(x), 0))
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    features = _extractor()(x.astype(np.float32), padding=0)
    return features[np.newaxis, :, : n // 160].astype(np.float32)


class SmartTurn:
    """The loaded model. `predict(ulaw)` -> probability that the turn is finished."""

    def __init__(self, path: Path | None = None, threads: int = 1) -> None:
        import onnxruntime as ort

        options = runtime.session_options(threads)
        self.path = path or model_path()
        self._session = ort.InferenceSession(str(self.path), sess_options=options,
                                             providers=["CPUExecutionProvider"])

    def predict(self, ulaw: bytes) -> float:
        """Probability in [0, 1] that the caller finished, from the turn's 8 kHz mu-law."""
        if not ulaw:
            return 0.0
        audio = upsample_8k_to_16k(ulaw2lin(ulaw)) if SAMPLE_RATE == 8000 else ulaw2lin(ulaw)
        out = self._session.run(None, {"input_features": model_input(audio)})[0]
        return float(np.clip(np.asarray(out).ravel()[0], 0.0, 1.0))


_lock = threading.Lock()
_model: SmartTurn | None = None


def shared() -> SmartTurn:
    """The process-wide model, loaded on first use."""
    global _model
    with _lock:
        if _model is None:
            _model = SmartTurn()
        return _model
