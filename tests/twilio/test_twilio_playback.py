"""Twilio's playback buffer model (adapters/twilio/playback.py), advanced by hand."""

from __future__ import annotations

from adapters.twilio.playback import PlaybackBuffer

A, B = b"\x01" * 320, b"\x02" * 160  # 40 ms and 20 ms


def test_a_mark_is_reached_only_after_the_audio_before_it() -> None:
    buf = PlaybackBuffer()
    buf.push_audio(A)
    assert buf.push_mark("a") == []
    buf.push_audio(B)
    buf.push_mark("b")
    step = buf.advance_bytes(160)
    assert (step.audio, step.marks) == (A[:160], [])
    step = buf.advance_bytes(160)
    assert (step.audio, step.marks) == (A[160:], ["a"])
    step = buf.advance_bytes(1000)
    assert (step.audio, step.marks) == (B, ["b"])
    assert buf.idle and buf.heard == A + B


def test_a_mark_on_an_idle_buffer_is_reached_at_once() -> None:
    buf = PlaybackBuffer()
    assert buf.push_mark("now") == ["now"]
    assert buf.idle


def test_marks_come_back_in_the_order_sent() -> None:
    buf = PlaybackBuffer()
    for i in range(5):
        buf.push_audio(b"\x00" * 80)
        buf.push_mark(f"m{i}")
    reached = []
    while not buf.idle:
        reached += buf.advance_bytes(37).marks
    assert reached == [f"m{i}" for i in range(5)]


def test_clear_drops_audio_and_returns_pending_marks() -> None:
    buf = PlaybackBuffer()
    buf.push_audio(A)
    buf.push_mark("a")
    buf.push_audio(B)
    buf.push_mark("b")
    buf.advance_bytes(100)
    assert buf.queued_bytes == len(A) + len(B) - 100
    assert buf.clear() == ["a", "b"]
    assert buf.idle and buf.queued_bytes == 0
    assert buf.advance_bytes(1000).audio == b""
    assert buf.heard == A[:100]


def test_advance_by_time_plays_8000_bytes_a_second() -> None:
    buf = PlaybackBuffer()
    buf.push_audio(b"\x00" * 8000)
    assert len(buf.advance(0.02).audio) == 160
    assert len(buf.advance(0.5).audio) == 4000
    assert buf.pending_marks == []
