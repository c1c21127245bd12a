"""`TurnTracker`: Deepgram's live messages in, the call's coarse speech events out.

A turn gathers the `is_final` segments Deepgram sends; it ends on `speech_final` (the
end-pointer heard `endpointing` ms of silence) or on `UtteranceEnd` (a word gap of
`utterance_end_ms`, which also catches noisy lines where end-pointing never fires), and
becomes one `caller.utterance {text, confidence}`: the segments joined, the confidence the
word-weighted mean of theirs, and `gap_ms`, the caller's silence since the previous turn's
last word (from word times, when Deepgram gave them). Until then every change of the turn's
text (final segments so far plus the newest interim guess) is a `caller.transcript {text}`.
An `is_final` segment that does not end the turn is stable words at a pause: a `GUESS` of
the finals so far (the session gives it to the call's speculator, never to the machine),
`WITHDRAW`n when an interim brings more words; the commit on `speech_final`/`UtteranceEnd`
carries the same text when nothing followed.

`caller.speech_started {duration_ms}`: Deepgram's `SpeechStarted` carries when speech began,
not for how long it has gone on. The duration reported is the audio fed since that moment
(offsets in bytes of the call's audio, 8 bytes a millisecond), reported on `SpeechStarted`
and again on every result with words while the turn lasts, each time only if it grew, until
`report_until_ms`. So a cough that Deepgram's VAD flags reports a short duration once and,
yielding no words, never grows; real speech grows with each interim result, which is what
the barge-in guard (a minimum duration) needs. With no `SpeechStarted`, the first word of
the turn marks the start. Pure: no I/O, no clock; the session maps times to offsets.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Emission = tuple[str, dict[str, Any]]
BYTES_PER_MS = 8  # 8 kHz mu-law
GUESS = "guess"  # not a call event: the session hands it to the call's speculator
WITHDRAW = "withdraw"  # the caller went on: the guess is dropped


@dataclass(frozen=True)
class Segment:
    text: str
    confidence: float

    @property
    def weight(self) -> int:
        return max(1, len(self.text.split()))


class TurnTracker:
    def __init__(self, report_until_ms: int = 2000) -> None:
        self.report_until_ms = report_until_ms
        self._finals: list[Segment] = []
        self._interim: Segment | None = None
        self._speech_start: int | None = None  # global byte offset where speech began
        self._speech_end: int | None = None  # global offset where the last final word ended
        self._previous_end: int | None = None  # ... of the previous turn (for `gap_ms`)
        self._reported_ms = -1
        self._last_text = ""
        self._guessed = False  # a guess of the finals so far is out

    @property
    def pending(self) -> bool:
        """Something heard that no utterance has carried yet."""
        return bool(self._finals or self._interim)

    def speech_started(self, start: int, fed: int) -> list[Emission]:
        """Deepgram's VAD heard speech begin at offset `start`; `fed` bytes are in so far."""
        if self._speech_start is None:
            self._speech_start = start
        return self._grow(fed)

    def result(
        self,
        text: str,
        confidence: float,
        *,
        is_final: bool,
        speech_final: bool,
        start: int,
        fed: int,
        end: int | None = None,
    ) -> list[Emission]:
        """One `Results` message; `start` is the offset of its first word, `end` of the end
        of its last word (when Deepgram gave word times)."""
        text = " ".join(text.split())
        is_final = is_final or speech_final  # Deepgram only sets speech_final on finals
        out: list[Emission] = []
        if text:
            if self._speech_start is None:
                self._speech_start = start
            out += self._grow(fed)
        if is_final:
            self._interim = None
            if text:
                self._finals.append(Segment(text, confidence))
                self._speech_end = end
        else:
            self._interim = Segment(text, confidence) if text else None
            if text and self._guessed:  # more words after the guess: the caller went on
                self._guessed = False
                out.append((WITHDRAW, {}))
        if speech_final:
            return out + self._end(include_interim=False)
        if is_final and text:  # a stable segment, the turn not ended yet: a guess
            self._guessed = True
            out.append((GUESS, _joined(self._finals)))
        turn_text = self._text(include_interim=True)
        if turn_text and turn_text != self._last_text:
            self._last_text = turn_text
            out.append(("caller.transcript", {"text": turn_text}))
        return out

    def utterance_end(self) -> list[Emission]:
        """Deepgram's `UtteranceEnd`: the finals so far are the turn (if any)."""
        return self._end(include_interim=False)

    def flush(self) -> list[Emission]:
        """Hang-up: whatever was heard, including an interim guess never finalized."""
        return self._end(include_interim=True)

    def _end(self, include_interim: bool) -> list[Emission]:
        segments = list(self._finals)
        if include_interim and self._interim is not None:
            segments.append(self._interim)
        started = self._speech_start
        self._finals = []
        if include_interim:
            self._interim = None
        if self._interim is None:  # nothing carried over: the next speech starts afresh
            self._speech_start = None
            self._reported_ms = -1
        self._last_text = ""
        self._guessed = False
        if not segments:
            return []
        fields = _joined(segments)
        if self._previous_end is not None and started is not None:  # the caller's silence
            fields["gap_ms"] = max(0, started - self._previous_end) // BYTES_PER_MS
        if self._speech_end is not None:
            fields["ended_offset"] = self._speech_end  # the session turns it into a time
            self._previous_end = self._speech_end
        self._speech_end = None
        return [("caller.utterance", fields)]

    def _grow(self, fed: int) -> list[Emission]:
        if self._speech_start is None or self._reported_ms >= self.report_until_ms:
            return []
        duration = max(0, fed - self._speech_start) // BYTES_PER_MS
        if duration <= self._reported_ms:
            return []
        self._reported_ms = duration
        return [("caller.speech_started", {"duration_ms": duration})]

    def _text(self, include_interim: bool) -> str:
        parts = [segment.text for segment in self._finals]
        if include_interim and self._interim is not None:
            parts.append(self._interim.text)
        return " ".join(parts)


def _joined(segments: list[Segment]) -> dict[str, Any]:
    """The turn's text and word-weighted confidence from its segments (the utterance's, and
    the guess's, so a commit of the same finals matches the guess exactly)."""
    text = " ".join(segment.text for segment in segments)
    weight = sum(segment.weight for segment in segments)
    confidence = sum(s.confidence * s.weight for s in segments) / weight
    return {"text": text, "confidence": round(confidence, 4)}
