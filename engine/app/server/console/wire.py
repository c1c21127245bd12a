"""The console's wire between its reader process (`reader.py`) and the server's event loop
(`relay.py`): requests go down as JSON lines, answers and pushes come back as frames, whose
bodies are mostly server-sent events made here (`event`) for the browsers.

A frame is an 8-byte header (the lengths of its head and body, big-endian), a small JSON
head saying what it is, and a body the loop passes on untouched (a ready-made server-sent
event, or a page of HTML), so the loop never parses or renders what the reader made.
Bounded: a head over `MAX_HEAD` or a body over `MAX_BODY` is refused as a broken wire. Pure
functions and one incremental decoder: no I/O.
"""

from __future__ import annotations

import json
import struct
from typing import Any

SIZES = struct.Struct(">II")
MAX_HEAD = 64 * 1024
MAX_BODY = 16 * 1024 * 1024
MAX_REQUEST = 64 * 1024  # bytes of one request line


class BrokenWire(ValueError):
    """The other side sent something that is not a frame (or a request) of this wire."""


def event(name: str, data: Any, event_id: int | None = None) -> str:
    """One server-sent event: `data` as JSON, with `event_id` (a cursor) when given."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def frame(head: dict[str, Any], body: bytes = b"") -> bytes:
    encoded = json.dumps(head, separators=(",", ":")).encode()
    return SIZES.pack(len(encoded), len(body)) + encoded + body


def request(message: dict[str, Any]) -> bytes:
    return json.dumps(message, separators=(",", ":")).encode() + b"\n"


def parse_request(line: bytes) -> dict[str, Any]:
    if len(line) > MAX_REQUEST:
        raise BrokenWire("request line too long")
    try:
        message = json.loads(line)
    except ValueError as exc:
        raise BrokenWire(f"not a JSON request: {exc}") from None
    if not isinstance(message, dict):
        raise BrokenWire("a request is a JSON object")
    return message


class Frames:
    """Bytes in, whole frames out: `feed(data)` returns the (head, body) pairs completed."""

    def __init__(self) -> None:
        self._buffer = bytearray()

    def feed(self, data: bytes) -> list[tuple[dict[str, Any], bytes]]:
        buffer = self._buffer
        buffer += data
        done: list[tuple[dict[str, Any], bytes]] = []
        at = 0
        while len(buffer) - at >= SIZES.size:
            head_len, body_len = SIZES.unpack_from(buffer, at)
            if head_len > MAX_HEAD or body_len > MAX_BODY:
                raise BrokenWire(f"frame of {head_len} + {body_len} bytes")
            end = at + SIZES.size + head_len + body_len
            if len(buffer) < end:
                break
            start = at + SIZES.size
            head = json.loads(bytes(buffer[start:start + head_len]))
            done.append((head, bytes(buffer[start + head_len:end])))
            at = end
        del buffer[:at]
        return done
