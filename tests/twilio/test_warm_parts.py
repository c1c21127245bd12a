"""The pure parts of a warm transfer: the whisper-then-join and conference TwiML, the
webhook base URL, the human's leg's final status as events, and the table of callers on
hold (bounded, one entry per stream)."""

from __future__ import annotations

import pytest

from adapters.twilio import twiml
from adapters.twilio.urls import hooks_base
from adapters.twilio.warm import WarmTransfers, conference_name, leg_outcome


def test_the_whisper_redirects_to_the_join_and_values_are_escaped() -> None:
    doc = twiml.whisper_then_join("Tom & <Jerry>",
                                  "https://h.example/webhook/transfer/join?parent=CA1&x=<y>")
    assert "<Say>Tom &amp; &lt;Jerry&gt;</Say>" in doc
    assert '<Redirect method="POST">https://h.example/webhook/transfer/join?parent=CA1&amp;' \
           "x=&lt;y&gt;</Redirect>" in doc
    with pytest.raises(twiml.TwimlError, match="join url"):
        twiml.whisper_then_join("hi", "javascript:alert(1)")


def test_both_legs_meet_in_a_room_that_ends_when_either_leaves_with_no_music() -> None:
    doc = twiml.conference(conference_name("CA1"))
    assert ">dialflow-CA1</Conference></Dial></Response>" in doc
    for attribute in ('startConferenceOnEnter="true"', 'endConferenceOnExit="true"',
                      'beep="false"', 'waitUrl=""'):
        assert attribute in doc


def test_the_webhook_base_comes_from_the_stream_url_twilio_opened() -> None:
    assert hooks_base("wss://calls.example.com/ws/media") == "https://calls.example.com"
    assert hooks_base("wss://h.example/prefix/ws/media") == "https://h.example/prefix"
    assert hooks_base("ws://127.0.0.1:8000/ws/media") == "http://127.0.0.1:8000"
    assert hooks_base("") == "" and hooks_base("ftp://x/ws/media") == ""


@pytest.mark.parametrize(("status", "event"), [
    ("busy", "transfer.busy"), ("no-answer", "transfer.no_answer"),
    ("canceled", "transfer.canceled"), ("completed", "transfer.no_answer"),
    ("failed", "transfer.failed"), ("<script>", "transfer.failed")])
def test_the_legs_final_status_becomes_an_event(status: str, event: str) -> None:
    name, data = leg_outcome(status)
    assert name == event
    if event == "transfer.failed":
        assert "<script>" not in data["error"] and data["dial_status"] in ("failed", "unknown")


def test_the_table_is_bounded_and_an_entry_belongs_to_its_stream() -> None:
    desk = WarmTransfers(limit=1)
    stream = object()
    entry = desk.park("CA1", "+15550001234", "hello", stream)
    assert not entry.settled
    with pytest.raises(RuntimeError, match="in progress"):
        desk.park("CA2", "", "", object())
    assert desk.unpark("CA1", object()) is None  # not its stream: kept
    assert desk.get("CA1") is entry
    entry.outcome = "transfer.busy"
    assert entry.settled
    assert desk.unpark("CA1", stream) is entry
    assert desk.get("CA1") is None and len(desk) == 0
