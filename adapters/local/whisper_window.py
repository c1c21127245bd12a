"""One greedy whisper decode on an encoder window sized to the utterance, not to 30 s.

faster-whisper pads every input's log-mel features to 3,000 frames (30 s) before the
encoder (`pad_or_trim` in its segment loop, whatever `chunk_length` says), and the encoder
is most of whisper tiny's time. CTranslate2's encoder takes any length up to 3,000 frames,
so `decode` encodes the utterance in a window of `MIN_WINDOW_S` or the audio plus
`PAD_SECONDS`, whichever is longer (on piper lines over the phone path, windows of 10 s and
less made the decoder repeat itself, 12-14 s lost a primed name, 16 s heard what 30 s did),
then runs one greedy decode with timestamps (the end timestamp is where it stops),
temperature 0 (no sampled re-decodes: the same words every time), the prompt and suppressed
tokens faster-whisper would use, and at most `TOKENS_PER_SECOND` new tokens per second of
audio.
Blocking; touches only the model it is given.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

SAMPLE_RATE = 16_000
HOP = 160  # samples per feature frame (10 ms)
MAX_FRAMES = 3_000  # whisper's 30 s window
MIN_WINDOW_S = 16.0  # 10 s made the decoder loop ("Thursday, Thursday, ..."); 12-14 s
# lost a primed name ("midlife" for "MetLife") that 16 s and 30 s heard
PAD_SECONDS = 4.0  # silence after a long utterance: whisper was trained on padded windows
TOKENS_PER_SECOND = 10  # a bound on the decode (speech is ~4 tokens a second)


@dataclass(frozen=True)
class Decoded:
    """What one window decoded to (faster-whisper's segment fields that matter here)."""

    text: str
    avg_logprob: float
    no_speech_prob: float


def window_frames(samples: int, min_window_s: float = MIN_WINDOW_S) -> int:
    """Feature frames the encoder sees for `samples` of 16 kHz audio: at least
    `min_window_s`, the audio plus `PAD_SECONDS` when longer, within whisper's 30 s window;
    even (the encoder's stride-2 convolution)."""
    frames = math.ceil(max(min_window_s, samples / SAMPLE_RATE + PAD_SECONDS) * SAMPLE_RATE / HOP)
    frames = min(MAX_FRAMES, frames)
    return frames + frames % 2


@functools.cache
def _tokenizer(model: WhisperModel) -> tuple[Any, tuple[int, ...]]:
    """The English transcription tokenizer and the tokens faster-whisper suppresses."""
    from faster_whisper.tokenizer import Tokenizer
    from faster_whisper.transcribe import get_suppressed_tokens

    tokenizer = Tokenizer(model.hf_tokenizer, model.model.is_multilingual, task="transcribe",
                          language="en")
    return tokenizer, tuple(get_suppressed_tokens(tokenizer, [-1]) or ())


def decode(model: WhisperModel, audio: np.ndarray, prompt: str | None = None,
           min_window_s: float = MIN_WINDOW_S) -> Decoded:
    """Transcribe 16 kHz float audio (the first 30 s of it) in one window (blocking)."""
    tokenizer, suppressed = _tokenizer(model)
    features = model.feature_extractor(audio)[:, :MAX_FRAMES]
    frames = window_frames(len(audio), min_window_s)
    window = np.zeros((features.shape[0], frames), np.float32)
    used = min(frames, features.shape[1])
    window[:, :used] = features[:, :used]
    encoded = model.encode(window)
    previous = tokenizer.encode(" " + prompt.strip()) if prompt else []
    tokens = [*model.get_prompt(tokenizer, previous, without_timestamps=False),
              tokenizer.timestamp_begin]
    budget = math.ceil(TOKENS_PER_SECOND * len(audio) / SAMPLE_RATE) + 8
    result = model.model.generate(
        encoded, [tokens], beam_size=1, return_scores=True, return_no_speech_prob=True,
        max_length=min(model.max_length, len(tokens) + budget), suppress_blank=True,
        suppress_tokens=list(suppressed), max_initial_timestamp_index=50)[0]
    ids = result.sequences_ids[0]
    avg_logprob = result.scores[0] * len(ids) / (len(ids) + 1)  # faster-whisper's average
    words = [i for i in ids if i < tokenizer.eot]  # the text without its timestamps
    return Decoded(tokenizer.decode(words).strip(), avg_logprob, result.no_speech_prob)
