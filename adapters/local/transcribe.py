"""One utterance's 8 kHz mu-law audio -> whisper text and a confidence in [0, 1].

`transcribe` blocks for a few hundred milliseconds: run it in the stt worker pool, never on
the event loop. Segments whisper itself would call silence (high `no_speech_prob` and low
`avg_logprob`) and segments of punctuation alone are dropped; when nothing is left the text
is empty and the confidence 0.
faster-whisper pads every input to 30 s for the encoder; here the turn is decoded in a
shorter window (`whisper_window`: 16 s, or the turn plus 4 s), which costs under half the
CPU with the same words on our lines. `prompt` (from
`knowledge.vocabulary.whisper_prompt`: the business's own words) becomes whisper's initial
prompt, so those names are heard ("MetLife", not "midlife").
Uses the shared whisper model from `models`; no other state.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from adapters.audio.mulaw import ulaw_to_float16k
from adapters.local import models
from adapters.local.whisper_window import decode

NO_SPEECH_PROB = 0.6  # whisper's own rule: a segment above this ...
SILENT_LOGPROB = -1.0  # ... and below this average log-probability is silence


@dataclass(frozen=True)
class Transcript:
    text: str
    confidence: float


def transcribe(ulaw: bytes, prompt: str | None = None) -> Transcript:
    """Recognise one utterance (blocking), primed with `prompt` when given."""
    audio = ulaw_to_float16k(ulaw)
    if len(audio) == 0:
        return Transcript("", 0.0)
    return combine([decode(models.whisper_model(), audio, prompt)])


def combine(segments: Iterable[Any]) -> Transcript:
    """Join whisper segments into one transcript. Confidence is the text-length-weighted mean
    of `exp(avg_logprob) * (1 - no_speech_prob)` over the segments kept."""
    texts: list[str] = []
    weighted = 0.0
    total = 0
    for seg in segments:
        text = seg.text.strip()
        if not any(c.isalnum() for c in text):  # "." alone is whisper's silence, not words
            continue
        if seg.no_speech_prob > NO_SPEECH_PROB and seg.avg_logprob < SILENT_LOGPROB:
            continue
        score = math.exp(min(seg.avg_logprob, 0.0)) * (1.0 - seg.no_speech_prob)
        texts.append(text)
        weighted += score * len(text)
        total += len(text)
    if not texts:
        return Transcript("", 0.0)
    return Transcript(" ".join(texts), round(min(max(weighted / total, 0.0), 1.0), 3))
