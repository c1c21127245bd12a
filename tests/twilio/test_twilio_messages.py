"""Parsing Twilio's Media Streams messages and building ours (adapters/twilio/messages.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from adapters.twilio.messages import (
    MAX_MESSAGE_CHARS,
    Connected,
    Dtmf,
    Mark,
    Media,
    MediaFormat,
    OutboundClear,
    OutboundMark,
    OutboundMedia,
    ProtocolError,
    Start,
    Stop,
    clear_message,
    mark_message,
    media_message,
    parse_inbound,
    parse_outbound,
)

SID = "MZ" + "1" * 32
FRAME = bytes(range(160))


def start_msg(**start_overrides: Any) -> dict[str, Any]:
    start = {
        "accountSid": "AC" + "2" * 32,
        "streamSid": SID,
        "callSid": "CA" + "3" * 32,
        "tracks": ["inbound"],
        "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000, "channels": 1},
        "customParameters": {"caller": "+15551234567", "callSid": "CA" + "3" * 32},
    }
    start.update(start_overrides)
    return {"event": "start", "sequenceNumber": "1", "start": start, "streamSid": SID}


def media_msg(payload: str | None = None, **media_overrides: Any) -> dict[str, Any]:
    media = {
        "track": "inbound",
        "chunk": "2",
        "timestamp": "20",
        "payload": base64.b64encode(FRAME).decode() if payload is None else payload,
    }
    media.update(media_overrides)
    return {"event": "media", "sequenceNumber": "3", "media": media, "streamSid": SID}


def text(message: dict[str, Any]) -> str:
    return json.dumps(message)


# -- good messages, shaped as in Twilio's documentation ---------------------------------------
def test_connected() -> None:
    msg = parse_inbound('{"event": "connected", "protocol": "Call", "version": "1.0.0"}')
    assert msg == Connected("Call", "1.0.0")


def test_start() -> None:
    msg = parse_inbound(text(start_msg()))
    assert isinstance(msg, Start)
    assert (msg.stream_sid, msg.call_sid, msg.account_sid) == (
        SID,
        "CA" + "3" * 32,
        "AC" + "2" * 32,
    )
    assert msg.tracks == ("inbound",)
    assert msg.media_format == MediaFormat("audio/x-mulaw", 8000, 1)
    assert msg.custom_parameters["caller"] == "+15551234567"
    assert msg.sequence_number == 1


def test_start_without_custom_parameters_has_none() -> None:
    raw = start_msg()
    del raw["start"]["customParameters"]
    msg = parse_inbound(text(raw))
    assert isinstance(msg, Start) and dict(msg.custom_parameters) == {}


def test_media_decodes_the_payload() -> None:
    msg = parse_inbound(text(media_msg()))
    assert msg == Media(SID, "inbound", 2, 20, FRAME, 3)


def test_media_payload_of_another_size_is_accepted() -> None:
    msg = parse_inbound(text(media_msg(base64.b64encode(b"\xff" * 7).decode())))
    assert isinstance(msg, Media) and msg.payload == b"\xff" * 7


def test_mark_dtmf_stop() -> None:
    assert parse_inbound(
        text({"event": "mark", "sequenceNumber": "4", "streamSid": SID, "mark": {"name": "s1"}})
    ) == Mark(SID, "s1", 4)
    assert parse_inbound(
        text(
            {
                "event": "dtmf",
                "streamSid": SID,
                "sequenceNumber": "5",
                "dtmf": {"track": "inbound_track", "digit": "#"},
            }
        )
    ) == Dtmf(SID, "#", "inbound_track", 5)
    stop = parse_inbound(
        text(
            {
                "event": "stop",
                "sequenceNumber": "6",
                "streamSid": SID,
                "stop": {"accountSid": "AC1", "callSid": "CA1"},
            }
        )
    )
    assert stop == Stop(SID, "CA1", "AC1", 6)


def test_bytes_and_unknown_extra_fields_are_accepted() -> None:
    raw = media_msg()
    raw["somethingNew"] = {"x": 1}
    assert isinstance(parse_inbound(text(raw).encode()), Media)


# -- bad messages ------------------------------------------------------------------------------
def _without(message: dict[str, Any], *path: str) -> dict[str, Any]:
    node = message
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return message


BAD = [
    ("{not json", "malformed JSON"),
    ("", "malformed JSON"),
    ("[1, 2]", "must be a JSON object"),
    ('"media"', "must be a JSON object"),
    ('{"streamSid": "MZ1"}', "missing field 'event'"),
    ('{"event": 5}', "'event' must be text"),
    ('{"event": "hello"}', "unknown event"),
    ('{"event": "connected", "version": "1.0.0"}', "missing field 'protocol'"),
    (text(_without(start_msg(), "start")), "missing field 'start'"),
    (text(_without(start_msg(), "start", "callSid")), "missing field 'callSid'"),
    (text(_without(start_msg(), "start", "streamSid")), "missing field 'streamSid'"),
    (text(_without(start_msg(), "start", "mediaFormat")), "missing field 'mediaFormat'"),
    (
        text(start_msg(mediaFormat={"encoding": "audio/l16", "sampleRate": 8000, "channels": 1})),
        "unsupported media format",
    ),
    (
        text(
            start_msg(mediaFormat={"encoding": "audio/x-mulaw", "sampleRate": 16000, "channels": 1})
        ),
        "unsupported media format",
    ),
    (text(start_msg(tracks="inbound")), "'tracks' must be a list"),
    (text(start_msg(customParameters={"a": 1})), "'customParameters' must map text"),
    (text(start_msg(callSid=7)), "'callSid' must be text"),
    (text(start_msg(callSid="")), "'callSid' is empty"),
    (text({**start_msg(), "streamSid": "MZother"}), "streamSid differs"),
    (text(_without(media_msg(), "streamSid")), "missing field 'streamSid'"),
    (text(_without(media_msg(), "media")), "missing field 'media'"),
    (text({**media_msg(), "media": "abc"}), "'media' must be an object"),
    (text(_without(media_msg(), "media", "payload")), "missing field 'payload'"),
    (text(media_msg("not base64!!")), "not valid base64"),
    (text(media_msg("QUJ")), "not valid base64"),  # missing padding
    (text(media_msg("QUJD====")), "bad padding"),  # Python alone would accept this
    (text(media_msg(chunk="two")), "'chunk' must be a whole number"),
    (text(media_msg(timestamp=-20)), "'timestamp' must not be negative"),
    (text(media_msg(timestamp=True)), "'timestamp' must be a whole number"),
    (text({"event": "mark", "streamSid": SID}), "missing field 'mark'"),
    (text({"event": "mark", "streamSid": SID, "mark": {}}), "missing field 'name'"),
    (text({"event": "dtmf", "streamSid": SID, "dtmf": {"digit": "X"}}), "not a DTMF digit"),
    (text({"event": "dtmf", "streamSid": SID, "dtmf": {"digit": "12"}}), "not a DTMF digit"),
    (text({"event": "stop"}), "missing field 'streamSid'"),
    (text({"event": "stop", "streamSid": SID, "stop": []}), "'stop' must be an object"),
    (b"\xff\xfe{}", "not UTF-8"),
]


@pytest.mark.parametrize(("raw", "reason"), BAD, ids=[reason for _, reason in BAD])
def test_bad_messages_are_rejected_with_a_clear_reason(raw: str | bytes, reason: str) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_inbound(raw)
    assert reason in caught.value.reason
    assert str(caught.value) == caught.value.reason


def test_oversized_messages_are_rejected_before_parsing() -> None:
    payload = base64.b64encode(bytes(MAX_MESSAGE_CHARS)).decode()  # valid, just too big
    raw = text(media_msg(payload))
    assert len(raw) > MAX_MESSAGE_CHARS
    with pytest.raises(ProtocolError, match="too large"):
        parse_inbound(raw)
    with pytest.raises(ProtocolError, match="too large"):
        parse_inbound(raw.encode())


def test_a_message_just_under_the_limit_is_accepted() -> None:
    empty = text(media_msg(""))
    room = (MAX_MESSAGE_CHARS - len(empty)) // 4 * 3
    raw = text(media_msg(base64.b64encode(bytes(room)).decode()))
    assert len(raw) <= MAX_MESSAGE_CHARS
    assert isinstance(parse_inbound(raw), Media)


def test_non_text_input_is_rejected() -> None:
    with pytest.raises(ProtocolError, match="must be text"):
        parse_inbound(123)  # type: ignore[arg-type]


# -- outbound ----------------------------------------------------------------------------------
def test_outbound_media_shape() -> None:
    data = json.loads(media_message(SID, FRAME))
    assert data == {
        "event": "media",
        "streamSid": SID,
        "media": {"payload": base64.b64encode(FRAME).decode()},
    }


def test_outbound_mark_and_clear_shapes() -> None:
    assert json.loads(mark_message(SID, "s1")) == {
        "event": "mark",
        "streamSid": SID,
        "mark": {"name": "s1"},
    }
    assert json.loads(clear_message(SID)) == {"event": "clear", "streamSid": SID}


def test_outbound_messages_parse_back() -> None:
    assert parse_outbound(media_message(SID, FRAME)) == OutboundMedia(SID, FRAME)
    assert parse_outbound(mark_message(SID, "s1")) == OutboundMark(SID, "s1")
    assert parse_outbound(clear_message(SID)) == OutboundClear(SID)
    with pytest.raises(ProtocolError, match="unknown outbound event"):
        parse_outbound('{"event": "start"}')
    with pytest.raises(ProtocolError, match="missing field 'streamSid'"):
        parse_outbound('{"event": "clear"}')
