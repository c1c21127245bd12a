"""Protocol order of one Media Stream (adapters/twilio/session.py)."""

from __future__ import annotations

import copy

import pytest

from adapters.twilio.messages import (
    Connected,
    Dtmf,
    Mark,
    Media,
    MediaFormat,
    ProtocolError,
    Start,
    Stop,
)
from adapters.twilio.session import Phase, StreamSession

SID = "MZ" + "1" * 32
CALL = "CA" + "3" * 32
START = Start(
    SID,
    CALL,
    "AC" + "2" * 32,
    ("inbound",),
    MediaFormat("audio/x-mulaw", 8000, 1),
    {"caller": "+15551234567"},
)


def media(n: int = 1) -> Media:
    return Media(SID, "inbound", n, 20 * n, b"\xff" * 160)


def started() -> StreamSession:
    session = StreamSession()
    session.observe(Connected("Call", "1.0.0"))
    session.observe(START)
    return session


def test_a_normal_stream() -> None:
    session = started()
    assert session.phase is Phase.STREAMING and session.started
    assert (session.stream_sid, session.call_sid) == (SID, CALL)
    assert session.custom_parameters == {"caller": "+15551234567"}
    for n in range(1, 4):
        assert not session.observe(media(n)).flagged
    session.observe(Dtmf(SID, "5", "inbound_track"))
    session.mark_sent("s1")
    assert not session.observe(Mark(SID, "s1")).flagged
    session.observe(Stop(SID, CALL, "AC"))
    assert session.stopped
    assert (session.media_frames, session.media_bytes) == (3, 480)
    assert session.pending_marks == ()


def test_start_without_connected_is_tolerated() -> None:
    session = StreamSession()
    session.observe(START)
    assert session.started


@pytest.mark.parametrize(
    "message", [media(), Mark(SID, "s1"), Dtmf(SID, "1", "inbound_track"), Stop(SID, CALL, "AC")]
)
def test_anything_but_start_before_start_is_an_error(message: Media | Mark | Dtmf | Stop) -> None:
    session = StreamSession()
    session.observe(Connected("Call", "1.0.0"))
    with pytest.raises(ProtocolError, match="before 'start'"):
        session.observe(message)


def test_a_second_start_is_an_error() -> None:
    session = started()
    with pytest.raises(ProtocolError, match="second 'start'"):
        session.observe(START)


def test_connected_twice_or_late_is_an_error() -> None:
    session = StreamSession()
    session.observe(Connected("Call", "1.0.0"))
    with pytest.raises(ProtocolError, match="'connected'"):
        session.observe(Connected("Call", "1.0.0"))
    with pytest.raises(ProtocolError, match="'connected'"):
        started().observe(Connected("Call", "1.0.0"))


@pytest.mark.parametrize(
    "message",
    [media(), Mark(SID, "s1"), Dtmf(SID, "1", "inbound_track"), Stop(SID, CALL, "AC"), START],
)
def test_anything_after_stop_is_an_error(message: Media | Mark | Dtmf | Stop | Start) -> None:
    session = started()
    session.observe(Stop(SID, CALL, "AC"))
    with pytest.raises(ProtocolError, match="after 'stop'"):
        session.observe(message)


def test_a_message_for_another_stream_is_an_error() -> None:
    with pytest.raises(ProtocolError, match="another stream"):
        started().observe(Media("MZother", "inbound", 1, 0, b""))


def test_a_mark_we_never_sent_is_flagged_not_fatal() -> None:
    session = started()
    seen = session.observe(Mark(SID, "ghost"))
    assert seen.flagged and "never sent" in seen.note
    session.observe(media())  # the stream goes on


def test_a_mark_echoed_twice_is_flagged_the_second_time() -> None:
    session = started()
    session.mark_sent("s1")
    assert not session.observe(Mark(SID, "s1")).flagged
    assert session.observe(Mark(SID, "s1")).flagged


def test_marks_out_of_order_are_flagged_with_the_ones_skipped() -> None:
    session = started()
    for name in ("a", "b", "c"):
        session.mark_sent(name)
    seen = session.observe(Mark(SID, "c"))
    assert seen.flagged and seen.mark_pending_before == ("a", "b")
    assert session.pending_marks == ("a", "b")


def test_clear_returns_the_marks_twilio_will_echo() -> None:
    session = started()
    session.mark_sent("a")
    session.mark_sent("b")
    assert session.clear_sent() == ("a", "b")
    assert not session.observe(Mark(SID, "a")).flagged
    assert not session.observe(Mark(SID, "b")).flagged
    assert session.pending_marks == ()


def test_sending_needs_a_started_stream_and_unique_mark_names() -> None:
    with pytest.raises(ProtocolError, match="cannot send 'mark'"):
        StreamSession().mark_sent("a")
    session = started()
    session.mark_sent("a")
    with pytest.raises(ValueError, match="already pending"):
        session.mark_sent("a")
    session.observe(Stop(SID, CALL, "AC"))
    with pytest.raises(ProtocolError, match="cannot send 'clear'"):
        session.clear_sent()


def _both(session: StreamSession, message: Media) -> tuple[bool, bool]:
    """(media_in_order's answer, whether observe accepts) on two sessions in the same state."""
    twin = copy.deepcopy(session)
    fast = session.media_in_order(message.stream_sid, len(message.payload))
    try:
        twin.observe(message)
        full = True
    except ProtocolError:
        full = False
    assert (session.media_frames, session.media_bytes) == (twin.media_frames, twin.media_bytes)
    return fast, full


def test_media_in_order_agrees_with_observe_in_every_phase() -> None:
    """The bridge's media short path asks `media_in_order`; the generic path `observe`."""
    before = StreamSession()
    before.observe(Connected("Call", "1.0.0"))
    assert _both(before, media()) == (False, False)
    streaming = started()
    assert _both(streaming, media()) == (True, True)
    assert streaming.media_frames == 1 and streaming.media_bytes == 160
    assert _both(streaming, Media("MZother", "inbound", 2, 40, b"\xff")) == (False, False)
    stopped = started()
    stopped.observe(Stop(SID, CALL, "AC" + "2" * 32))
    assert _both(stopped, media()) == (False, False)
