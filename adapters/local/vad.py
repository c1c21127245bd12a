"""`EndPointer`: turns a call's 8 kHz mu-law frames into "speech started" and "utterance ended".

Frames of any size are gathered into 256-sample (32 ms) windows; each window gets a speech
probability from a silero VAD (any object with `process(memoryview) -> float`). A run of
windows at or above `threshold` lasting `min_speech_ms` starts speech; once speaking, windows
above the lower `release` probability keep it going (hysteresis), and `end_silence_ms` below
it ends the utterance. While speech grows, `SpeechStarted` is reported every
`report_every_ms` up to `report_until_ms`, so a barge-in guard sees the duration grow. The
ended utterance carries its mu-law audio, starting `pre_roll_ms` before the onset, and the
caller's silence since the previous utterance's last voiced window (`gap_ms`). With
`pause_ms`, a shorter silence first reports `Paused` (the two-step end of turn decides and
may `commit`); `end_silence_ms` (per turn: `end_silence_ms` attribute) is then the cap.
With `early_ms` (attribute) below `pause_ms`, `Pausing` comes first, once per silence, after
that much silence: a pause may be coming (a speculative transcription may start on its
audio). The `Paused` of the same silence carries that very audio as `speech`, so what is
transcribed at a pause does not depend on whether the early start happened.
`VoiceOnset`/`VoiceGone` report the first voiced window and a voice too short to count.
Pure computation: no I/O, no threads, no clock (time is counted in windows).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Protocol

import numpy as np

from adapters.audio.mulaw import ulaw2lin
from engine.audio_format import SAMPLE_RATE

WINDOW = 256  # samples per silero window at 8 kHz
WINDOW_MS = WINDOW * 1000 // SAMPLE_RATE  # 32


@dataclass(frozen=True)
class VadParams:
    """End-pointing settings; durations in milliseconds, rounded up to whole 32 ms windows."""

    threshold: float = 0.5  # probability at which a window counts as speech
    release: float = 0.35  # once speaking, below this a window counts as silence
    min_speech_ms: int = 100  # speech must last this long before it counts as started
    end_silence_ms: int = 600  # this much silence ends the utterance
    max_utterance_ms: int = 15_000  # speech this long is cut into an utterance even if it goes on
    pre_roll_ms: int = 200  # audio kept from before the onset
    report_every_ms: int = 100  # report the growing duration this often ...
    report_until_ms: int = 1_000  # ... until the speech is this long
    pause_ms: int | None = None  # silence that reports a `Paused` (two-step end of turn)
    report_onset: bool = False  # report `VoiceOnset` and `VoiceGone` (barge-in pauses)


@dataclass(frozen=True)
class SpeechStarted:
    """The caller has been speaking for `duration_ms` (reported repeatedly as it grows)."""

    duration_ms: int


@dataclass(frozen=True)
class UtteranceEnded:
    """The caller's turn ended. `audio` is 8 kHz mu-law from the pre-roll to the end of the
    trailing silence; `truncated` when `max_utterance_ms` cut it; `gap_ms` the silence
    between the previous utterance's speech and this one's onset (None for the first)."""

    audio: bytes
    duration_ms: int
    truncated: bool = False
    gap_ms: int | None = None


@dataclass(frozen=True)
class VoiceOnset:
    """The first voiced window: maybe speech, maybe a click (barge-in pauses the agent)."""


@dataclass(frozen=True)
class VoiceGone:
    """The voice that began at the onset was too short to be speech (a click, a cough)."""


@dataclass(frozen=True)
class Paused:
    """The caller has been silent `pause_ms` in the middle of an utterance: time to decide
    whether the turn ended. `audio` is the utterance so far; `pause` counts the pauses;
    `speech` the audio as it was at the `Pausing` of this silence (`audio` without one)."""

    audio: bytes
    duration_ms: int
    pause: int
    speech: bytes | None = None

    @property
    def words(self) -> bytes:
        """The audio to transcribe: the same bytes whether or not an early start ran."""
        return self.audio if self.speech is None else self.speech


@dataclass(frozen=True)
class Pausing:
    """Silent `early_ms`, not yet `pause_ms`: `pause` is the number the `Paused` would get
    if the silence lasts; `audio` the utterance so far (its `speech`)."""

    audio: bytes
    pause: int


@dataclass(frozen=True)
class Resumed:
    """The caller spoke again after a `Paused` (or a `Pausing`): the same utterance goes on."""

    pause: int


VadEvent = (SpeechStarted | UtteranceEnded | VoiceOnset | VoiceGone | Paused | Pausing
            | Resumed)


class Detector(Protocol):
    def process(self, data: memoryview) -> float:
        """Speech probability of one window of float32 samples in [-1, 1]."""


class _State(Enum):
    IDLE = "idle"
    CANDIDATE = "candidate"  # voiced windows, not yet min_speech_ms of them
    SPEAKING = "speaking"


class EndPointer:
    """One call's end-pointer. Feed it with `push`; call `flush` at hang-up."""

    def __init__(self, detector: Detector, params: VadParams | None = None) -> None:
        self.params = params or VadParams()
        self._detector = detector
        self._partial = bytearray()
        self._pre: deque[bytes] = deque(maxlen=math.ceil(self.params.pre_roll_ms / WINDOW_MS))
        self._onset_pre: list[bytes] = []  # pre-roll frozen at the onset
        self._run: list[bytes] = []  # windows from the onset on
        self._state = _State.IDLE
        self._speech_ms = 0  # from the onset to the end of the last voiced window
        self._silence_ms = 0  # since the last voiced window
        self._next_report_ms = 0
        self.end_silence_ms = self.params.end_silence_ms  # the cap; may change per turn
        self.pause_ms = self.params.pause_ms  # may change per turn (the state's policy)
        self.max_utterance_ms = self.params.max_utterance_ms
        self._pauses = 0  # pauses reported so far
        self._paused = False  # a `Paused` was reported in the current silence
        self._window_no = 0  # windows seen so far (the clock, in windows)
        self._onset_no = 0  # the window the current speech began in
        self._last_voiced_no: int | None = None  # the previous utterance's last voiced window
        self.early_ms: int | None = None  # silence that reports `Pausing` (before the pause)
        self._early: bytes | None = None  # the audio reported by this silence's `Pausing`

    @property
    def speaking(self) -> bool:
        """True once speech has started and until the utterance ends."""
        return self._state is _State.SPEAKING

    def push(self, ulaw: bytes) -> list[VadEvent]:
        """Feed caller audio (any length); returns what it completed, in order."""
        self._partial += ulaw
        events: list[VadEvent] = []
        while len(self._partial) >= WINDOW:
            window = bytes(self._partial[:WINDOW])
            del self._partial[:WINDOW]
            self._window_no += 1
            samples = ulaw2lin(window).astype(np.float32) / np.float32(32768.0)
            probability = float(self._detector.process(memoryview(samples.data)))
            before = self._state
            event = self._step(window, probability)
            if self.params.report_onset and before is not self._state:
                if before is _State.IDLE:
                    events.append(VoiceOnset())
                elif before is _State.CANDIDATE and self._state is _State.IDLE:
                    events.append(VoiceGone())
            if event is not None:
                events.append(event)
        return events

    def commit(self) -> UtteranceEnded | None:
        """End the utterance now (the decision at a pause said the turn is over)."""
        if self._state is not _State.SPEAKING:
            return None
        return self._end(truncated=False)

    def flush(self) -> UtteranceEnded | None:
        """End now (hang-up): the utterance in progress if speech had started, else None."""
        if self._state is _State.SPEAKING:
            self._run.append(bytes(self._partial))
            self._partial.clear()
            return self._end(truncated=False)
        self._partial.clear()
        self._reset()
        return None

    def _step(self, window: bytes, p: float) -> VadEvent | None:
        params = self.params
        if self._state is _State.IDLE:
            if p < params.threshold:
                self._pre.append(window)
                return None
            self._state = _State.CANDIDATE
            self._onset_no = self._window_no
            self._onset_pre = list(self._pre)
            self._run = [window]
            self._speech_ms = WINDOW_MS
            self._silence_ms = 0
            self._next_report_ms = params.min_speech_ms
            return self._confirm()
        if self._state is _State.CANDIDATE:
            if p < params.threshold:  # too short: a click, a cough; back to listening
                self._pre.extend([*self._onset_pre, *self._run, window])
                self._state = _State.IDLE
                self._run = []
                return None
            self._run.append(window)
            self._speech_ms += WINDOW_MS
            return self._confirm()
        self._run.append(window)
        if p >= params.release:
            self._speech_ms += self._silence_ms + WINDOW_MS
            self._silence_ms = 0
            if self._speech_ms >= self.max_utterance_ms:
                return self._end(truncated=True)
            early, self._early = self._early, None
            if self._paused or early is not None:
                self._paused = False
                return Resumed(self._pauses)
            return self._report()
        self._silence_ms += WINDOW_MS
        if self._silence_ms >= self.end_silence_ms:
            return self._end(truncated=False)
        if self.pause_ms is not None and not self._paused and self._silence_ms >= self.pause_ms:
            self._paused = True
            self._pauses += 1
            return Paused(b"".join([*self._onset_pre, *self._run]), self._speech_ms, self._pauses,
                          self._early)
        if (self.pause_ms is not None and self.early_ms is not None and not self._paused
                and self._early is None and self.early_ms <= self._silence_ms < self.pause_ms):
            self._early = b"".join([*self._onset_pre, *self._run])
            return Pausing(self._early, self._pauses + 1)
        return None

    def _confirm(self) -> VadEvent | None:
        if self._speech_ms < self.params.min_speech_ms:
            return None
        self._state = _State.SPEAKING
        return self._report()

    def _report(self) -> SpeechStarted | None:
        params = self.params
        if self._speech_ms < self._next_report_ms or self._next_report_ms > params.report_until_ms:
            return None
        step = max(params.report_every_ms, 1)
        self._next_report_ms = (self._speech_ms // step + 1) * step
        return SpeechStarted(self._speech_ms)

    def _end(self, truncated: bool) -> UtteranceEnded:
        last = self._last_voiced_no
        gap = None if last is None else max(0, self._onset_no - last - 1) * WINDOW_MS
        self._last_voiced_no = self._window_no - self._silence_ms // WINDOW_MS
        event = UtteranceEnded(b"".join([*self._onset_pre, *self._run]), self._speech_ms,
                               truncated, gap)
        self._reset()
        return event

    def _reset(self) -> None:
        self._paused = False
        self._early = None
        self.end_silence_ms = self.params.end_silence_ms
        self._state = _State.IDLE
        self._pre.clear()
        self._onset_pre = []
        self._run = []
        self._speech_ms = 0
        self._silence_ms = 0
