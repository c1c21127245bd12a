"""Twilio Media Streams messages: typed inbound messages, a strict parser, outbound builders.

Inbound (Twilio -> us): `connected`, `start`, `media`, `mark`, `dtmf`, `stop`. The parser
checks types, required fields and bounds (message size, id lengths, number lengths) and
raises `ProtocolError(reason)` for anything it cannot trust, never another exception;
unknown extra fields are ignored (Twilio may add some). Outbound (us -> Twilio):
`media`, `mark`, `clear`, built as compact JSON text; `parse_outbound` reads them back for
the simulated caller. Pure functions and dataclasses: no I/O, no logging.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_MESSAGE_CHARS = 64 * 1024
MAX_ID_CHARS = 64  # Twilio's sids are 34 characters
MAX_NUMBER_DIGITS = 20  # counters and timestamps fit in 64 bits
MULAW_ENCODING = "audio/x-mulaw"
DTMF_DIGITS = frozenset("0123456789*#ABCD")


class ProtocolError(ValueError):
    """A message we cannot accept; `reason` says why in plain words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class MediaFormat:
    encoding: str
    sample_rate: int
    channels: int


@dataclass(frozen=True)
class Connected:
    protocol: str
    version: str
    event: str = field(default="connected", init=False)


@dataclass(frozen=True)
class Start:
    stream_sid: str
    call_sid: str
    account_sid: str
    tracks: tuple[str, ...]
    media_format: MediaFormat
    custom_parameters: Mapping[str, str]
    sequence_number: int | None = None
    event: str = field(default="start", init=False)


@dataclass(frozen=True)
class Media:
    stream_sid: str
    track: str
    chunk: int
    timestamp: int
    payload: bytes
    sequence_number: int | None = None
    event: str = field(default="media", init=False)


@dataclass(frozen=True)
class Mark:
    stream_sid: str
    name: str
    sequence_number: int | None = None
    event: str = field(default="mark", init=False)


@dataclass(frozen=True)
class Dtmf:
    stream_sid: str
    digit: str
    track: str
    sequence_number: int | None = None
    event: str = field(default="dtmf", init=False)


@dataclass(frozen=True)
class Stop:
    stream_sid: str
    call_sid: str
    account_sid: str
    sequence_number: int | None = None
    event: str = field(default="stop", init=False)


InboundMessage = Connected | Start | Media | Mark | Dtmf | Stop


@dataclass(frozen=True)
class OutboundMedia:
    stream_sid: str
    payload: bytes


@dataclass(frozen=True)
class OutboundMark:
    stream_sid: str
    name: str


@dataclass(frozen=True)
class OutboundClear:
    stream_sid: str


OutboundMessage = OutboundMedia | OutboundMark | OutboundClear


# -- field readers ---------------------------------------------------------------------------
def _load(text: str | bytes, max_chars: int = MAX_MESSAGE_CHARS) -> tuple[str, dict[str, Any]]:
    if isinstance(text, bytes | bytearray):
        if len(text) > max_chars:
            raise ProtocolError(f"message too large ({len(text)} bytes > {max_chars})")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("message is not UTF-8 text") from None
    if not isinstance(text, str):
        raise ProtocolError(f"message must be text, got {type(text).__name__}")
    if len(text) > max_chars:
        raise ProtocolError(f"message too large ({len(text)} chars > {max_chars})")
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:  # ValueError: also integers > 4,300 digits
        raise ProtocolError(f"malformed JSON: {exc!s:.120}") from None
    if not isinstance(data, dict):
        raise ProtocolError(f"message must be a JSON object, got {type(data).__name__}")
    event = data.get("event")
    if not isinstance(event, str):
        raise ProtocolError("missing field 'event'" if event is None else "'event' must be text")
    return event, data


def _obj(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    value = data.get(key)
    if value is None:
        raise ProtocolError(f"{where}: missing field '{key}'")
    if not isinstance(value, dict):
        raise ProtocolError(f"{where}: '{key}' must be an object")
    return value


def _str(data: Mapping[str, Any], key: str, where: str, *, empty: bool = False) -> str:
    value = data.get(key)
    if value is None:
        raise ProtocolError(f"{where}: missing field '{key}'")
    if not isinstance(value, str):
        raise ProtocolError(f"{where}: '{key}' must be text")
    if not value and not empty:
        raise ProtocolError(f"{where}: '{key}' is empty")
    return value


def _id(data: Mapping[str, Any], key: str, where: str) -> str:
    """A sid: non-empty text of at most `MAX_ID_CHARS` characters."""
    value = _str(data, key, where)
    if len(value) > MAX_ID_CHARS:
        raise ProtocolError(f"{where}: '{key}' is longer than {MAX_ID_CHARS} characters")
    return value


def _int(data: Mapping[str, Any], key: str, where: str, *, required: bool = True) -> int | None:
    """Twilio sends counters as decimal strings ("3"); plain integers are accepted too."""
    value = data.get(key)
    if value is None:
        if required:
            raise ProtocolError(f"{where}: missing field '{key}'")
        return None
    if isinstance(value, bool):
        raise ProtocolError(f"{where}: '{key}' must be a whole number")
    if isinstance(value, int):
        number = value
    elif (isinstance(value, str) and value.isascii() and value.isdigit()
          and len(value) <= MAX_NUMBER_DIGITS):
        number = int(value)
    else:
        raise ProtocolError(f"{where}: '{key}' must be a whole number, got {value!r:.40}")
    if number < 0:
        raise ProtocolError(f"{where}: '{key}' must not be negative")
    if number >= 10**MAX_NUMBER_DIGITS:
        raise ProtocolError(f"{where}: '{key}' is longer than {MAX_NUMBER_DIGITS} digits")
    return number


def _b64(value: str, where: str) -> bytes:
    """Standard, canonically padded base64 only (Python alone would accept extra '=')."""
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ProtocolError(f"{where}: payload is not valid base64") from None
    if len(value) != 4 * ((len(data) + 2) // 3):
        raise ProtocolError(f"{where}: payload is not valid base64 (bad padding)")
    return data


# -- inbound ---------------------------------------------------------------------------------
def _connected(d: Mapping[str, Any]) -> Connected:
    return Connected(_str(d, "protocol", "connected"), _str(d, "version", "connected"))


def _start(d: Mapping[str, Any]) -> Start:
    start = _obj(d, "start", "start")
    where = "start"
    stream_sid = _id(start, "streamSid", where)
    top = d.get("streamSid")
    if top is not None and top != stream_sid:
        raise ProtocolError("start: streamSid differs from start.streamSid")
    fmt = _obj(start, "mediaFormat", where)
    media_format = MediaFormat(
        _str(fmt, "encoding", "start.mediaFormat"),
        _int(fmt, "sampleRate", "start.mediaFormat") or 0,
        _int(fmt, "channels", "start.mediaFormat") or 0,
    )
    if media_format != MediaFormat(MULAW_ENCODING, 8000, 1):
        raise ProtocolError(
            f"start: unsupported media format {media_format}; "
            f"expected {MULAW_ENCODING}, 8000 Hz, 1 channel"
        )
    tracks = start.get("tracks")
    if not isinstance(tracks, list) or not all(isinstance(t, str) for t in tracks):
        raise ProtocolError("start: 'tracks' must be a list of text")
    params = start.get("customParameters", {})
    if not isinstance(params, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in params.items()
    ):
        raise ProtocolError("start: 'customParameters' must map text to text")
    return Start(
        stream_sid,
        _id(start, "callSid", where),
        _id(start, "accountSid", where),
        tuple(tracks),
        media_format,
        dict(params),
        _int(d, "sequenceNumber", where, required=False),
    )


def _media(d: Mapping[str, Any]) -> Media:
    media = _obj(d, "media", "media")
    return Media(
        _str(d, "streamSid", "media"),
        _str(media, "track", "media"),
        _int(media, "chunk", "media") or 0,
        _int(media, "timestamp", "media") or 0,
        _b64(_str(media, "payload", "media", empty=True), "media"),
        _int(d, "sequenceNumber", "media", required=False),
    )


def _mark(d: Mapping[str, Any]) -> Mark:
    mark = _obj(d, "mark", "mark")
    return Mark(
        _str(d, "streamSid", "mark"),
        _str(mark, "name", "mark"),
        _int(d, "sequenceNumber", "mark", required=False),
    )


def _dtmf(d: Mapping[str, Any]) -> Dtmf:
    dtmf = _obj(d, "dtmf", "dtmf")
    digit = _str(dtmf, "digit", "dtmf")
    if digit not in DTMF_DIGITS:
        raise ProtocolError(f"dtmf: {digit!r:.10} is not a DTMF digit")
    track = dtmf.get("track", "inbound_track")
    if not isinstance(track, str):
        raise ProtocolError("dtmf: 'track' must be text")
    return Dtmf(
        _str(d, "streamSid", "dtmf"),
        digit,
        track,
        _int(d, "sequenceNumber", "dtmf", required=False),
    )


def _stop(d: Mapping[str, Any]) -> Stop:
    stop = d.get("stop", {})
    if not isinstance(stop, dict):
        raise ProtocolError("stop: 'stop' must be an object")
    call_sid = stop.get("callSid", "")
    account_sid = stop.get("accountSid", "")
    if not isinstance(call_sid, str) or not isinstance(account_sid, str):
        raise ProtocolError("stop: 'callSid' and 'accountSid' must be text")
    return Stop(
        _str(d, "streamSid", "stop"),
        call_sid,
        account_sid,
        _int(d, "sequenceNumber", "stop", required=False),
    )


_PARSERS = {
    "connected": _connected,
    "start": _start,
    "media": _media,
    "mark": _mark,
    "dtmf": _dtmf,
    "stop": _stop,
}


def parse_inbound(text: str | bytes, max_chars: int = MAX_MESSAGE_CHARS) -> InboundMessage:
    """Parse one WebSocket message from Twilio; raise `ProtocolError` if it is not valid
    (including longer than `max_chars`)."""
    event, data = _load(text, max_chars)
    parser = _PARSERS.get(event)
    if parser is None:
        raise ProtocolError(f"unknown event {event!r:.40}")
    return parser(data)


# -- outbound --------------------------------------------------------------------------------
def _dump(data: dict[str, Any]) -> str:
    return json.dumps(data, separators=(",", ":"))


def media_message(stream_sid: str, ulaw: bytes) -> str:
    """Audio for the caller: 8 kHz mu-law bytes, base64 in JSON."""
    payload = base64.b64encode(ulaw).decode("ascii")
    return _dump({"event": "media", "streamSid": stream_sid, "media": {"payload": payload}})


_MEDIA_END = '"}}'


def media_prefix(stream_sid: str) -> str:
    """The text every media message of one stream starts with, up to the payload: cut from
    `media_message`'s own output, so `media_text` writes exactly what it would."""
    empty = media_message(stream_sid, b"")
    assert empty.endswith(_MEDIA_END)
    return empty[: -len(_MEDIA_END)]


def media_text(prefix: str, ulaw: bytes) -> str:
    """`media_message(stream_sid, ulaw)` for the stream whose `media_prefix` is `prefix`,
    without a JSON encoder per frame (base64 text needs no escaping)."""
    return prefix + binascii.b2a_base64(ulaw, newline=False).decode("ascii") + _MEDIA_END


def mark_message(stream_sid: str, name: str) -> str:
    """Ask Twilio to echo `name` when playback reaches this point."""
    return _dump({"event": "mark", "streamSid": stream_sid, "mark": {"name": name}})


def clear_message(stream_sid: str) -> str:
    """Drop everything buffered for playback; Twilio echoes the pending marks."""
    return _dump({"event": "clear", "streamSid": stream_sid})


def parse_outbound(text: str | bytes) -> OutboundMessage:
    """Parse a message we send to Twilio (what the simulated caller receives)."""
    event, data = _load(text)
    if event == "media":
        media = _obj(data, "media", "media")
        payload = _b64(_str(media, "payload", "media", empty=True), "media")
        return OutboundMedia(_str(data, "streamSid", "media"), payload)
    if event == "mark":
        name = _str(_obj(data, "mark", "mark"), "name", "mark")
        return OutboundMark(_str(data, "streamSid", "mark"), name)
    if event == "clear":
        return OutboundClear(_str(data, "streamSid", "clear"))
    raise ProtocolError(f"unknown outbound event {event!r:.40}")
