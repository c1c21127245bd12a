"""The lean WebSocket protocol (engine/app/server/lean_ws.py) against uvicorn's own.

Both protocols are fed the same bytes in the same chunks, on a recording transport, with an
app that records every ASGI message it receives: what the app sees, what goes back on the
wire (101, pongs, close frames with their codes and reasons) and whether the transport was
closed must be the same — on generated streams of plain frames, pings, pongs, closes,
fragments, reserved bits, unmasked, oversized and non-UTF-8 frames and unknown opcodes, cut
anywhere. With an inline handler the texts it takes must be exactly those that would have
been received, in the same order relative to the rest, and never while a message waits in
the queue.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import struct
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from uvicorn.config import Config
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from adapters.twilio.bridge.socket import LEAN_CHANNEL
from engine.app.server.lean_ws import LeanWebSocketProtocol

MAX_SIZE = 600  # websockets' limit in these tests (small, so oversized frames are cheap)
KEY = base64.b64encode(b"0123456789abcdef").decode()
REQUEST = (f"GET /ws/media HTTP/1.1\r\nhost: test\r\nupgrade: websocket\r\n"
           f"connection: Upgrade\r\nsec-websocket-key: {KEY}\r\n"
           "sec-websocket-version: 13\r\n\r\n").encode()
MASK = b"\x0f\xa0\x33\x5c"


def frame(opcode: int, payload: bytes, *, fin: bool = True, rsv: int = 0, masked: bool = True,
          length_form: int = 0) -> bytes:
    """One client frame; `length_form` 126/127 forces a longer length field than needed."""
    head = bytes(((0x80 if fin else 0) | rsv << 4 | opcode,))
    n, bit = len(payload), 0x80 if masked else 0
    if length_form == 127 or n >= 65536:
        head += bytes((bit | 127,)) + struct.pack("!Q", n)
    elif length_form == 126 or n >= 126:
        head += bytes((bit | 126,)) + struct.pack("!H", n)
    else:
        head += bytes((bit | n,))
    if not masked:
        return head + payload
    return head + MASK + bytes(b ^ MASK[i % 4] for i, b in enumerate(payload))


class Wire(asyncio.Transport):
    """A transport that records what the protocol writes and asks of it."""

    def __init__(self) -> None:
        super().__init__()
        self.out = bytearray()
        self.writes = 0
        self.closed = False
        self.paused = False

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 5000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default)

    def write(self, data: Any) -> None:
        self.out += data
        self.writes += 1

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def pause_reading(self) -> None:
        self.paused = True

    def resume_reading(self) -> None:
        self.paused = False


def recording_app(seen: list[Any], inline: Callable[[str], bool] | None = None) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        channel = scope["extensions"].get(LEAN_CHANNEL)
        if inline is not None and channel is not None:
            channel.set_inline(inline)
        while True:
            message = await receive()
            seen.append(("received", message.get("text", message.get("bytes")),
                         message["type"], message.get("code"), message.get("reason")))
            if message["type"] == "websocket.disconnect":
                return
    return app


async def until(condition: Callable[[], bool], rounds: int = 1000) -> None:
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition not reached")


async def run(protocol_class: type, chunks: list[bytes],
              inline: Callable[[str], bool] | None = None, seen: list[Any] | None = None
              ) -> tuple[list[Any], bytes, bool]:
    seen = [] if seen is None else seen
    config = Config(recording_app(seen, inline), ws_per_message_deflate=False,
                    ws_max_size=MAX_SIZE, ws_ping_interval=None, log_level="critical")
    state = ServerState()
    protocol = protocol_class(config=config, server_state=state, app_state={})
    wire = Wire()
    protocol.connection_made(wire)
    protocol.data_received(REQUEST)
    await until(lambda: protocol.handshake_complete)
    for chunk in chunks:
        await until(lambda: not wire.paused or wire.closed)  # a real loop stops reading too
        if wire.closed:
            break
        try:
            protocol.data_received(chunk)
        except Exception as exc:  # what an event loop does with it: the connection is lost
            seen.append(("raised", type(exc).__name__))
            wire.close()
            protocol.connection_lost(exc)
    await until(lambda: not wire.paused or wire.closed)
    if not wire.closed:
        protocol.connection_lost(None)
    await until(lambda: not state.tasks)
    return seen, bytes(wire.out), wire.closed


def cut(stream: bytes, points: list[int]) -> list[bytes]:
    edges = sorted({0, len(stream), *(p % (len(stream) + 1) for p in points)})
    return [stream[a:b] for a, b in itertools.pairwise(edges)]


texts = st.text(max_size=300)
frames = st.one_of(
    texts.map(lambda t: frame(0x1, t.encode())),
    texts.map(lambda t: frame(0x1, t.encode(), length_form=126)),
    texts.map(lambda t: frame(0x1, t.encode(), length_form=127)),
    st.binary(max_size=200).map(lambda b: frame(0x2, b)),
    st.binary(max_size=125).map(lambda b: frame(0x9, b)),
    st.binary(max_size=125).map(lambda b: frame(0xA, b)),
    st.binary(min_size=126, max_size=200).map(lambda b: frame(0x9, b)),  # control too long
    st.binary(max_size=20).map(lambda b: frame(0x9, b, fin=False)),  # fragmented control
    st.sampled_from([frame(0x8, struct.pack("!H", 1000) + b"bye"), frame(0x8, b""),
                     frame(0x8, b"\x03")]),
    texts.map(lambda t: frame(0x1, t.encode(), fin=False)),  # a fragment...
    texts.map(lambda t: frame(0x0, t.encode())),  # ...and continuations
    st.tuples(texts, st.integers(1, 7)).map(lambda a: frame(0x1, a[0].encode(), rsv=a[1])),
    texts.map(lambda t: frame(0x1, t.encode(), masked=False)),
    st.integers(MAX_SIZE + 1, 5000).map(lambda n: frame(0x1, b"x" * n)),  # oversized
    st.sampled_from([frame(0x1, b"\xff\xfe"), frame(0x1, b"ok\xc3"), frame(0x1, b"\xed\xa0\x80")]),
    st.sampled_from([3, 4, 7, 0xB, 0xF]).map(lambda op: frame(op, b"?")),
)
plain_texts = st.text(max_size=200).map(lambda t: frame(0x1, t.encode()))
streams = st.tuples(st.lists(st.one_of(plain_texts, plain_texts, frames), max_size=12),
                    st.lists(st.integers(0, 10_000), max_size=6))
SETTINGS = settings(max_examples=300, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(streams)
def test_the_lean_protocol_does_what_uvicorns_does_with_any_stream(case: Any) -> None:
    stream = b"".join(case[0])
    chunks = cut(stream, case[1])
    expected = asyncio.run(run(WebSocketsSansIOProtocol, chunks))
    assert asyncio.run(run(LeanWebSocketProtocol, chunks)) == expected


@SETTINGS
@given(streams)
def test_an_inline_handler_takes_texts_in_their_place_and_only_with_nothing_queued(
        case: Any) -> None:
    stream = b"".join(case[0])
    chunks = cut(stream, case[1])
    expected, out, closed = asyncio.run(run(WebSocketsSansIOProtocol, chunks))
    seen: list[Any] = []
    protocols: list[Any] = []

    class Watched(LeanWebSocketProtocol):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            protocols.append(self)

    def take(text: str) -> bool:
        assert protocols[0].queue.empty()  # nothing waits that came before it
        if len(text) % 2:  # the handler takes some and leaves the others to the queue
            return False
        seen.append(("received", text, "websocket.receive", None, None))
        return True

    got = asyncio.run(run(Watched, chunks, inline=take, seen=seen))
    assert got == (expected, out, closed)


# One frame per read, as a quiet server reads a media stream: the lean protocol's one-frame
# short path (`_one_text`) sees these whole, so here it must refuse exactly what the frame
# loop and websockets refuse (16-bit lengths around the limit, bad UTF-8, no mask, ...).
near_limit = st.integers(120, MAX_SIZE + 3).map(lambda n: frame(0x1, b"y" * n))
one_per_read = st.lists(st.one_of(plain_texts, near_limit, frames), max_size=12)


@SETTINGS
@given(one_per_read)
def test_one_frame_per_read_the_lean_protocol_does_what_uvicorns_does(chunks: Any) -> None:
    expected = asyncio.run(run(WebSocketsSansIOProtocol, chunks))
    assert asyncio.run(run(LeanWebSocketProtocol, chunks)) == expected


@SETTINGS
@given(one_per_read)
def test_one_frame_per_read_the_inline_handler_gets_what_the_app_would(chunks: Any) -> None:
    expected, out, closed = asyncio.run(run(WebSocketsSansIOProtocol, chunks))
    seen: list[Any] = []

    def take(text: str) -> bool:
        if len(text) % 3 == 1:  # some are left to the queue
            return False
        seen.append(("received", text, "websocket.receive", None, None))
        return True

    assert asyncio.run(run(LeanWebSocketProtocol, chunks, inline=take, seen=seen)) == (
        expected, out, closed)


def test_plain_frames_are_taken_inline_across_any_cut() -> None:
    stream = b"".join(frame(0x1, f"frame {i}".encode()) for i in range(20))
    inline: list[str] = []
    seen, _, _ = asyncio.run(run(LeanWebSocketProtocol, cut(stream, [1, 5, 37, 38, 200]),
                                 inline=lambda t: inline.append(t) or True))
    assert inline == [f"frame {i}" for i in range(20)]
    assert [s[2] for s in seen] == ["websocket.disconnect"]


def test_pings_get_their_pong_and_the_short_path_goes_on_after_them() -> None:
    chunks = [frame(0x1, b"one"), frame(0x9, b"hi"), frame(0x1, b"two")]
    inline: list[str] = []
    seen, out, _ = asyncio.run(run(LeanWebSocketProtocol, chunks,
                                   inline=lambda t: inline.append(t) or True))
    assert inline == ["one", "two"]
    assert out.endswith(b"\x8a\x02hi")  # the pong, unmasked, from websockets
    assert [s[2] for s in seen] == ["websocket.disconnect"]


def test_bytes_sent_before_the_handshake_was_answered_keep_the_socket_on_websockets(
        ) -> None:
    async def main() -> tuple[LeanWebSocketProtocol, list[Any]]:
        seen: list[Any] = []
        config = Config(recording_app(seen, inline=lambda t: True),
                        ws_per_message_deflate=False, ws_ping_interval=None,
                        log_level="critical")
        protocol = LeanWebSocketProtocol(config=config, server_state=ServerState(),
                                         app_state={})
        protocol.connection_made(Wire())
        protocol.data_received(REQUEST)
        protocol.data_received(frame(0x1, b"early"))  # before the app accepted
        await until(lambda: bool(seen))
        protocol.connection_lost(None)
        return protocol, seen

    protocol, seen = asyncio.run(main())
    assert seen[0][:2] == ("received", "early")  # websockets read it, the queue had it
    assert protocol._lean_ok is False


async def _open_socket() -> tuple[LeanWebSocketProtocol, Wire]:
    """A lean protocol on a recording wire, its handshake done (the app accepted)."""
    config = Config(recording_app([]), ws_per_message_deflate=False,
                    ws_ping_interval=None, log_level="critical")
    protocol = LeanWebSocketProtocol(config=config, server_state=ServerState(), app_state={})
    wire = Wire()
    protocol.connection_made(wire)
    protocol.data_received(REQUEST)
    await until(lambda: protocol.handshake_complete)
    return protocol, wire


@pytest.mark.parametrize("size", [125, 126, 65535, 65536])
def test_send_text_now_writes_the_frame_websockets_would(size: int) -> None:
    from websockets.frames import Frame, Opcode

    async def main() -> bytes:
        protocol, wire = await _open_socket()
        start = len(wire.out)
        assert protocol.send_text_now("é" * (size // 2) + "x" * (size % 2))
        written = bytes(wire.out[start:])
        protocol.connection_lost(None)
        assert not protocol.send_text_now("gone")  # the ASGI path raises for it
        return written

    text = "é" * (size // 2) + "x" * (size % 2)
    assert asyncio.run(main()) == Frame(Opcode.TEXT, text.encode()).serialize(mask=False)


def test_send_texts_now_writes_a_pair_in_one_write_as_websockets_would() -> None:
    from websockets.frames import Frame, Opcode

    async def main() -> tuple[int, bytes]:
        protocol, wire = await _open_socket()
        writes = wire.writes
        start = len(wire.out)
        assert protocol.send_texts_now(["a" * 300, "b" * 20])
        written = bytes(wire.out[start:])
        protocol.connection_lost(None)
        assert not protocol.send_texts_now(["gone"])
        return wire.writes - writes, written

    writes, written = asyncio.run(main())
    assert writes == 1  # the paced pair: one transport write, one system call
    assert written == (Frame(Opcode.TEXT, b"a" * 300).serialize(mask=False)
                       + Frame(Opcode.TEXT, b"b" * 20).serialize(mask=False))
