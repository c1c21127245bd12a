"""The end-pointer: its timing logic with scripted probabilities, then the real silero VAD
on real speech, silence, noise and a click."""

from __future__ import annotations

import itertools
import math

from local_speech_kit import BOOKING, click, framed, noise, silence

from adapters.local import models
from adapters.local.vad import (
    WINDOW,
    WINDOW_MS,
    EndPointer,
    SpeechStarted,
    UtteranceEnded,
    VadEvent,
    VadParams,
)


class Scripted:
    """A detector that returns the given probabilities, one per window."""

    def __init__(self, probabilities: list[float]) -> None:
        self.probabilities = list(probabilities)
        self.calls = 0

    def process(self, data: memoryview) -> float:
        assert len(data) == WINDOW and data.format == "f" and not data.readonly
        self.calls += 1
        return self.probabilities.pop(0)


def window(index: int) -> bytes:
    """Window `index`, filled with a byte that identifies it."""
    return bytes([index % 251]) * WINDOW


def run(probabilities: list[float], params: VadParams | None = None):
    """Push one window per probability; returns [(window index, event)]."""
    pointer = EndPointer(Scripted(probabilities), params)
    out: list[tuple[int, VadEvent]] = []
    for i in range(len(probabilities)):
        out.extend((i, event) for event in pointer.push(window(i)))
    return pointer, out


def started(events) -> list[int]:
    return [e.duration_ms for _, e in events if isinstance(e, SpeechStarted)]


def ended(events) -> list[tuple[int, UtteranceEnded]]:
    return [(i, e) for i, e in events if isinstance(e, UtteranceEnded)]


def test_speech_started_grows_every_100_ms_up_to_a_second_then_ends_after_600_ms() -> None:
    params = VadParams()
    _, events = run([0.0] * 5 + [0.9] * 50 + [0.1] * 25, params)
    durations = started(events)
    assert params.min_speech_ms <= durations[0] < params.min_speech_ms + 2 * WINDOW_MS
    gaps = [b - a for a, b in itertools.pairwise(durations)]
    every = params.report_every_ms
    assert all(every - WINDOW_MS <= gap < 2 * every for gap in gaps)
    assert params.report_until_ms <= durations[-1] < params.report_until_ms + params.report_every_ms
    (index, utterance), = ended(events)
    silent_windows = math.ceil(params.end_silence_ms / WINDOW_MS)
    assert index == 5 + 50 + silent_windows - 1
    assert utterance.duration_ms == 50 * WINDOW_MS and not utterance.truncated
    # every SpeechStarted came before the end
    assert [type(e) for _, e in events][-1] is UtteranceEnded


def test_hysteresis_keeps_speech_going_between_release_and_threshold() -> None:
    params = VadParams(threshold=0.5, release=0.35)
    # 0.4 alone never starts speech ...
    _, idle = run([0.4] * 40, params)
    assert idle == []
    # ... but once speaking it keeps it going
    _, events = run([0.9] * 10 + [0.4] * 30 + [0.1] * 19, params)
    (index, utterance), = ended(events)
    assert index == 10 + 30 + 19 - 1
    assert utterance.duration_ms == 40 * WINDOW_MS


def test_short_pause_inside_speech_does_not_end_the_utterance() -> None:
    _, events = run([0.9] * 10 + [0.1] * 10 + [0.9] * 10 + [0.1] * 19)
    (_, utterance), = ended(events)
    assert utterance.duration_ms == 30 * WINDOW_MS


def test_a_click_shorter_than_min_speech_reports_nothing() -> None:
    pointer, events = run([0.0] * 5 + [0.95] * 3 + [0.0] * 40)  # 96 ms < 100 ms
    assert events == []
    assert pointer.flush() is None
    # exactly enough windows does start speech
    _, events = run([0.0] * 5 + [0.95] * 4 + [0.0] * 40)
    assert started(events) == [4 * WINDOW_MS]


def test_utterance_audio_starts_with_the_pre_roll() -> None:
    params = VadParams(pre_roll_ms=200)
    _, events = run([0.0] * 20 + [0.9] * 10 + [0.0] * 19, params)
    (_, utterance), = ended(events)
    pre = math.ceil(200 / WINDOW_MS)  # 7 windows, 224 ms
    expected = b"".join(window(i) for i in range(20 - pre, 20 + 10 + 19))
    assert utterance.audio == expected


def test_long_speech_is_cut_at_max_utterance_and_starts_again() -> None:
    params = VadParams(max_utterance_ms=1000)
    _, events = run([0.9] * 60 + [0.0] * 19, params)
    utterances = ended(events)
    assert [u.truncated for _, u in utterances] == [True, False]
    first_end = utterances[0][0]
    assert utterances[0][1].duration_ms >= 1000 and first_end == math.ceil(1000 / WINDOW_MS) - 1
    assert any(isinstance(e, SpeechStarted) for i, e in events if i > first_end)


def test_frames_of_any_size_are_windowed_and_flush_returns_the_partial_tail() -> None:
    detector = Scripted([0.9] * 100)
    pointer = EndPointer(detector)
    audio = b"\x10" * (WINDOW * 10 + 100)
    events = [e for i in range(0, len(audio), 160) for e in pointer.push(audio[i : i + 160])]
    assert detector.calls == 10
    assert started(list(enumerate(events)))
    assert pointer.speaking
    utterance = pointer.flush()
    assert utterance is not None and utterance.audio == audio
    assert not pointer.speaking


def test_real_vad_on_real_speech(spoken: dict[str, bytes]) -> None:
    vad = models.take_vad()
    try:
        pointer = EndPointer(vad)
        speech = spoken[BOOKING]
        audio = framed(silence(500), speech, silence(1000))
        events = [e for frame in audio for e in pointer.push(frame)]
    finally:
        models.give_back_vad(vad)
    durations = [e.duration_ms for e in events if isinstance(e, SpeechStarted)]
    utterances = [e for e in events if isinstance(e, UtteranceEnded)]
    assert len(durations) >= 5 and durations == sorted(set(durations))
    assert len(utterances) == 1 and isinstance(events[-1], UtteranceEnded)
    # the whole phrase is in the utterance (piper's own leading/trailing quiet may be cut)
    assert len(utterances[0].audio) >= len(speech) * 0.8


def test_real_vad_ignores_silence_noise_and_a_click(warm_models: None) -> None:
    vad = models.take_vad()
    try:
        pointer = EndPointer(vad)
        audio = framed(silence(1000), noise(2000), silence(300), click(), silence(1000),
                       noise(1000, amplitude=3000, seed=1))
        events = [e for frame in audio for e in pointer.push(frame)]
        assert events == []
        assert pointer.flush() is None
    finally:
        models.give_back_vad(vad)


def test_an_utterance_carries_the_callers_silence_since_the_previous_one() -> None:
    # speech in windows 0-9, silence 10-34 (the first ends 19 windows into it), speech 35-44
    _, events = run([0.9] * 10 + [0.0] * 25 + [0.9] * 10 + [0.0] * 20)
    (_, first), (_, second) = ended(events)
    assert first.gap_ms is None  # nothing before it
    assert second.gap_ms == 25 * WINDOW_MS


def test_the_silence_counts_from_the_last_voiced_window_when_a_pause_commits() -> None:
    # the decision at a 200 ms pause ends the first turn early (7 silent windows in);
    # the caller speaks again 9 silent windows after their last word
    pointer = EndPointer(Scripted([0.9] * 10 + [0.0] * 7 + [0.0] * 2 + [0.9] * 10 + [0.0] * 20),
                         VadParams(pause_ms=200))
    events: list[VadEvent] = []
    for i in range(17):
        events += pointer.push(window(i))
    first = pointer.commit()
    assert first is not None and first.gap_ms is None
    for i in range(17, 49):
        events += pointer.push(window(i))
    (second,) = [e for e in events if isinstance(e, UtteranceEnded)]
    assert second.gap_ms == 9 * WINDOW_MS
