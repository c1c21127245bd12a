"""`ProgressiveHeardWords`: a remote agent's sentence shown while it plays, for
`dialflow call --url`, where the agent's words reach the caller only as audio.

Once the first `HEAD_SECONDS` of a sentence were heard, the audio is cut at the quietest
20 ms inside `CUT_WINDOW` (a gap between words, so no word is split), the part before it is
transcribed by the offline whisper model and shown at once, ending in ` …`; when the
sentence ends (its mark, or a barge-in's `clear`), the rest is transcribed and shown as a
`… rest` line; a long one gets a `… more …` line for every `CHUNK_SECONDS` while it plays,
so only the last few seconds wait for its end. A sentence shorter than `HEAD_SECONDS` is
shown whole when it ends. Nothing
here waits for the caller, so the caller's next line is never held back by a
transcription. Touches nothing but the whisper model (in a worker thread).
"""

from __future__ import annotations

import asyncio

import numpy as np

from adapters.audio.mulaw import ulaw2lin
from adapters.twilio.caller import HeardSegment
from engine.audio_format import FRAME_BYTES, SAMPLE_RATE

HEAD_SECONDS = 1.6  # heard this much of a sentence: show its start
CUT_WINDOW = (0.8, 1.6)  # seconds: where to look for a pause to cut at
CHUNK_SECONDS = 3.0  # then, while it plays, one more line per this much audio
CONTINUES = " …"


def quiet_cut(ulaw: bytes, window: tuple[float, float] = CUT_WINDOW) -> int:
    """The byte offset of the quietest 20 ms frame inside `window` (seconds into `ulaw`)."""
    first = int(window[0] * SAMPLE_RATE) // FRAME_BYTES
    last = min(int(window[1] * SAMPLE_RATE), len(ulaw)) // FRAME_BYTES
    if last <= first:
        return len(ulaw)
    samples = ulaw2lin(bytes(ulaw[first * FRAME_BYTES:last * FRAME_BYTES])).astype(np.float64)
    energy = (samples.reshape(-1, FRAME_BYTES) ** 2).mean(axis=1)
    return (first + int(np.argmin(energy))) * FRAME_BYTES + FRAME_BYTES // 2


class ProgressiveHeardWords:
    """Word source for `Narrator`: the start of each sentence while it plays, then the rest."""

    live = True

    def __init__(self) -> None:
        self.cuts: dict[int, int] = {}  # sentence index -> where its head was cut

    def ready(self, segment: HeardSegment) -> bool:
        return segment.ended or len(segment.audio) >= HEAD_SECONDS * SAMPLE_RATE

    async def words(self, index: int, segment: HeardSegment) -> str:
        audio = bytes(segment.audio)
        if segment.ended:
            return await self._text(audio) or "(agent audio, no words recognised)"
        cut = self.cuts[index] = quiet_cut(audio)
        head = await self._text(audio[:cut])
        return (head or "(agent audio)") + CONTINUES

    async def more(self, index: int, segment: HeardSegment) -> str:
        """While it plays: the next `CHUNK_SECONDS` after the last cut, once heard ("" if
        not yet)."""
        cut = self.cuts.get(index)
        audio = bytes(segment.audio)
        if cut is None or len(audio) - cut < (CHUNK_SECONDS + 0.6) * SAMPLE_RATE:
            return ""
        end = cut + quiet_cut(audio[cut:], (CHUNK_SECONDS - 0.8, CHUNK_SECONDS))
        self.cuts[index] = end
        return "… " + ((await self._text(audio[cut:end])) or "(agent audio)") + CONTINUES

    async def rest(self, index: int, segment: HeardSegment) -> str:
        """The words after the head's cut ("" when the sentence was shown whole)."""
        cut = self.cuts.pop(index, None)
        if cut is None:
            return ""
        tail = await self._text(bytes(segment.audio[cut:]))
        return "… " + (tail or "(no more words recognised)")

    async def _text(self, ulaw: bytes) -> str:
        from adapters.local.transcribe import transcribe

        return (await asyncio.to_thread(transcribe, ulaw)).text.strip()
