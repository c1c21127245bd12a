"""The fast path for inbound `media` messages (50 a second per call), beside the full parser.

`parse_inbound` here is what the bridge calls for every Twilio message. A `media` message
that passes every check of the full parser (`messages.parse_inbound`) is read with orjson
and checked inline, without the generic field readers; anything else — another event, a
message orjson refuses, a field of the wrong type, a bound exceeded, bad base64 — falls
through to the full parser, which accepts it or raises its usual `ProtocolError`. So the
fast path only decides "accepted, and here is the same `Media`": every rejection and every
error text is the full parser's own (tests/twilio/test_media_fast.py holds the two paths to
the same answers on generated and mutated messages). Pure functions: no I/O, no logging.
"""

from __future__ import annotations

import binascii
from typing import Any

import orjson

from adapters.twilio.messages import (
    MAX_MESSAGE_CHARS,
    MAX_NUMBER_DIGITS,
    InboundMessage,
    Media,
)
from adapters.twilio.messages import parse_inbound as parse_full

_NUMBER_LIMIT = 10**MAX_NUMBER_DIGITS
_loads = orjson.loads
_JSONError = orjson.JSONDecodeError
_a2b = binascii.a2b_base64


def _number(value: Any) -> int | None:
    """A counter as the full parser reads it (decimal text or a plain integer, not negative,
    at most `MAX_NUMBER_DIGITS` digits); None when it would refuse it."""
    if type(value) is str:
        if value.isascii() and value.isdigit() and len(value) <= MAX_NUMBER_DIGITS:
            return int(value)
        return None
    if type(value) is int and 0 <= value < _NUMBER_LIMIT:
        return value
    return None


MediaFields = tuple[str, str, int, int, bytes, "int | None"]  # Media's fields, in order


def media_fields(text: object, max_chars: int = MAX_MESSAGE_CHARS) -> MediaFields | None:
    """The fields of the `Media` the full parser would return for `text` (a plain tuple: no
    object per frame), or None when `text` is not a media message the fast path is sure of
    (the caller then runs the full parser)."""
    if type(text) is not str or len(text) > max_chars:
        return None
    try:
        data = _loads(text)
    except _JSONError:
        return None
    if type(data) is not dict:
        return None
    try:  # subscripts, not .get(): a missing key is rare and then the full parser decides
        if data["event"] != "media":
            return None
        media, stream_sid = data["media"], data["streamSid"]
        if type(media) is not dict or type(stream_sid) is not str or not stream_sid:
            return None
        track, payload = media["track"], media["payload"]
        chunk, timestamp = media["chunk"], media["timestamp"]
    except KeyError:
        return None
    if type(track) is not str or not track or type(payload) is not str:
        return None
    # Twilio's counters are short decimal strings: read those inline, the rest via _number.
    if (type(chunk) is str and chunk.isdigit() and chunk.isascii()
            and len(chunk) <= MAX_NUMBER_DIGITS):
        chunk = int(chunk)
    elif (chunk := _number(chunk)) is None:
        return None
    if (type(timestamp) is str and timestamp.isdigit() and timestamp.isascii()
            and len(timestamp) <= MAX_NUMBER_DIGITS):
        timestamp = int(timestamp)
    elif (timestamp := _number(timestamp)) is None:
        return None
    sequence = data.get("sequenceNumber")
    if (type(sequence) is str and sequence.isdigit() and sequence.isascii()
            and len(sequence) <= MAX_NUMBER_DIGITS):
        sequence = int(sequence)
    elif sequence is not None and (sequence := _number(sequence)) is None:
        return None
    try:  # what base64.b64decode(validate=True) does, without its copy to bytes
        audio = _a2b(payload, strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    if len(payload) != 4 * ((len(audio) + 2) // 3):  # canonical padding only
        return None
    return stream_sid, track, chunk, timestamp, audio, sequence


def parse_media(text: object, max_chars: int = MAX_MESSAGE_CHARS) -> Media | None:
    """`media_fields` as the `Media` the full parser would return."""
    fields = media_fields(text, max_chars)
    return Media(*fields) if fields is not None else None


def parse_inbound(text: str | bytes, max_chars: int = MAX_MESSAGE_CHARS) -> InboundMessage:
    """Parse one WebSocket message from Twilio exactly as `messages.parse_inbound` does
    (same results, same `ProtocolError`s), media messages faster."""
    media = parse_media(text, max_chars)
    return media if media is not None else parse_full(text, max_chars)
