"""The pure parts of a warm transfer: the `<Dial><Number url>` TwiML, the webhook base URL,
Twilio's DialCallStatus as events, and the table of parked calls (one hand-over, only after
a report, bounded)."""

from __future__ import annotations

import asyncio

import pytest

from adapters.twilio import twiml
from adapters.twilio.urls import hooks_base
from adapters.twilio.warm import WarmTransfers, dial_outcome


def test_dial_with_a_whisper_url_is_a_number_noun_and_urls_are_escaped() -> None:
    doc = twiml.dial("+15550100199", timeout=25, action="https://h.example/webhook/transfer/status",
                     whisper_url="https://h.example/webhook/transfer/whisper?parent=CA1&x=<y>")
    assert '<Dial action="https://h.example/webhook/transfer/status" timeout="25">' in doc
    assert '<Number url="https://h.example/webhook/transfer/whisper?parent=CA1&amp;x=&lt;y&gt;">' \
           "+15550100199</Number>" in doc
    with pytest.raises(twiml.TwimlError, match="whisper url"):
        twiml.dial("+15550100199", whisper_url="javascript:alert(1)")
    said = twiml.say_only("Tom & <Jerry>")
    assert said.endswith("<Say>Tom &amp; &lt;Jerry&gt;</Say></Response>")


def test_the_webhook_base_comes_from_the_stream_url_twilio_opened() -> None:
    assert hooks_base("wss://calls.example.com/ws/media") == "https://calls.example.com"
    assert hooks_base("wss://h.example/prefix/ws/media") == "https://h.example/prefix"
    assert hooks_base("ws://127.0.0.1:8000/ws/media") == "http://127.0.0.1:8000"
    assert hooks_base("") == "" and hooks_base("ftp://x/ws/media") == ""


@pytest.mark.parametrize(("status", "event"), [
    ("busy", "transfer.busy"), ("no-answer", "transfer.no_answer"),
    ("canceled", "transfer.canceled"), ("completed", "transfer.completed"),
    ("failed", "transfer.failed"), ("<script>", "transfer.failed")])
def test_dial_call_status_becomes_an_event(status: str, event: str) -> None:
    name, data = dial_outcome(status)
    assert name == event
    if event == "transfer.failed":
        assert "<script>" not in data["error"] and data["dial_status"] in ("failed", "unknown")


def test_a_parked_call_is_handed_over_once_and_only_after_the_report() -> None:
    async def scenario() -> None:
        desk = WarmTransfers(limit=1)
        stream = object()
        entry = desk.park("CA1", "+15550001234", "hello", stream)
        assert not desk.hand_over("CA1", "early")  # no report yet: a replayed start is refused
        entry.outcome = ("transfer.busy", {})
        assert desk.hand_over("CA1", "back") and entry.returned.result() == "back"
        assert not desk.hand_over("CA1", "again")
        with pytest.raises(RuntimeError, match="in progress"):
            desk.park("CA2", "", "", object())
        desk.unpark("CA1", object())  # not its stream: kept
        assert desk.get("CA1") is entry
        desk.unpark("CA1", stream)
        assert desk.get("CA1") is None and len(desk) == 0

    asyncio.run(scenario())
