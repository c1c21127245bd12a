"""TwiML documents (adapters/twilio/twiml.py), read back as XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from adapters.twilio.twiml import TwimlError, connect_stream, dial

CALL = "CA" + "1" * 32


def test_connect_stream_passes_caller_and_call_sid_as_parameters() -> None:
    doc = connect_stream(
        "wss://calls.example.com/ws/media",
        caller="+15551234567",
        call_sid=CALL,
        parameters={"flow": "main"},
    )
    root = ET.fromstring(doc)
    assert root.tag == "Response"
    (connect,) = list(root)
    assert connect.tag == "Connect"
    (stream,) = list(connect)
    assert stream.tag == "Stream" and stream.get("url") == "wss://calls.example.com/ws/media"
    params = {p.get("name"): p.get("value") for p in stream.findall("Parameter")}
    assert params == {"caller": "+15551234567", "callSid": CALL, "flow": "main"}


def test_parameter_values_are_escaped() -> None:
    doc = connect_stream("wss://x.example/ws/media", caller='"><Hangup/>', call_sid=CALL)
    stream = ET.fromstring(doc).find("Connect/Stream")
    assert stream is not None and ET.fromstring(doc).find(".//Hangup") is None
    assert stream.find("Parameter").get("value") == '"><Hangup/>'  # type: ignore[union-attr]


@pytest.mark.parametrize("url", ["https://x.example/ws", "wss://x.example/ws?token=1", "/ws"])
def test_stream_url_must_be_a_websocket_url_without_query(url: str) -> None:
    with pytest.raises(TwimlError):
        connect_stream(url, caller="+15551234567", call_sid=CALL)


def test_dial_with_timeout_and_action() -> None:
    root = ET.fromstring(dial("+15551234567", timeout=20, action="https://x.example/dial-done"))
    (element,) = list(root)
    assert element.tag == "Dial" and element.text == "+15551234567"
    assert element.get("timeout") == "20"
    assert element.get("action") == "https://x.example/dial-done"


def test_dial_without_options() -> None:
    (element,) = list(ET.fromstring(dial("+442071234567")))
    assert element.attrib == {} and element.text == "+442071234567"


@pytest.mark.parametrize("number", ["5551234567", "+1 555 123", "+1555<Hangup/>", "", "+0123"])
def test_dial_refuses_what_is_not_e164(number: str) -> None:
    with pytest.raises(TwimlError, match=r"E\.164"):
        dial(number)


def test_dial_refuses_bad_timeout_and_action() -> None:
    with pytest.raises(TwimlError, match="timeout"):
        dial("+15551234567", timeout=1)
    with pytest.raises(TwimlError, match="action"):
        dial("+15551234567", action="javascript:alert(1)")
