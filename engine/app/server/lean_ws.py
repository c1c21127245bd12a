"""`LeanWebSocketProtocol`: uvicorn's websockets-sansio protocol with a short path for the
plain data frames of an open socket (Twilio's 50 media messages a second per call).

uvicorn's protocol runs every inbound frame through websockets' generator parser, a `Frame`
object, an ASGI message dict, an `asyncio.Queue` (a wake-up of the app's task) and a
`pause_reading`/`resume_reading` pair; every outbound one through an ASGI dict, a coroutine,
a `Frame` and its serializer. Here, once the handshake is done:

- **Inbound**, a complete, final, masked text or binary frame with no reserved bits, within
  websockets' own size limit, is unmasked and decoded here. If the app registered an inline
  handler (`LEAN_CHANNEL` in the scope's extensions, see adapters/twilio/bridge/socket.py)
  and nothing is queued for its task, the handler takes the text on the spot (the media
  stream's fast path: no task wake-up, no queue); otherwise the message goes to uvicorn's
  queue exactly as uvicorn puts it there (same dict, same pause of reading). A read that
  is exactly one such text frame (the usual case: a media stream's frame per read) is
  checked and decoded without the frame loop or a list; any other read goes through it.
- **Everything else** is handed to websockets and uvicorn unchanged, byte for byte, so every
  check, error and close code is theirs: a ping or pong (exactly that frame; the short path
  goes on after it), and from the first frame of any other kind on for good — close,
  continuation, a fragment, reserved bits, an unmasked or oversized frame, an unknown
  opcode, text that is not UTF-8 — as are all bytes once a close was sent or received.
  The short path starts only on a socket whose handshake request came alone (uvicorn hands
  it over by itself), so websockets' parser always stands at a frame boundary when it is
  handed bytes again.
- **Outbound**, `send_text_now` writes a text frame (`send_texts_now` several, in one
  write) straight to the transport while the socket is open and writable; otherwise it
  says False and the app sends through ASGI.

Selected with `uvicorn.Config(ws=LeanWebSocketProtocol)` (`dialflow serve`, the bench, the
server tests). Touches only its own connection's transport.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from struct import Struct
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request
from websockets.protocol import OPEN

from adapters.twilio.bridge.socket import LEAN_CHANNEL

try:
    from websockets.speedups import apply_mask
except ImportError:  # pragma: no cover - websockets without its C extension
    from websockets.utils import apply_mask

log = logging.getLogger("dialflow.ws")
_U16, _U64 = Struct("!H"), Struct("!Q")
_TEXT, _BINARY, _PING, _PONG = 0x1, 0x2, 0x9, 0xA
_FIN_TEXT, _FIN_BINARY = 0x80 | _TEXT, 0x80 | _BINARY  # final, no reserved bits
_FIN_PING, _FIN_PONG = 0x80 | _PING, 0x80 | _PONG
_END_OF_HEAD = b"\r\n\r\n"

Handler = Callable[[str], bool]


class LeanWebSocketProtocol(WebSocketsSansIOProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lean_ok: bool | None = None  # None until the handshake request came
        self._rest = b""  # the start of a frame not yet complete (short path only)
        self._inline: Handler | None = None
        self._max = self._limit()  # fixed with the connection (uvicorn's ws_max_size)

    # -- the channel the app sees (scope["extensions"][LEAN_CHANNEL]) ------------------------
    def set_inline(self, handler: Handler | None) -> None:
        """Texts the handler returns True for are taken inline; None stops it."""
        self._inline = handler

    def send_text_now(self, text: str) -> bool:
        """Write one text frame now; False (nothing done) when the socket is not plainly
        open and writable: the caller then sends through ASGI, which waits or raises."""
        return self.send_texts_now((text,))

    def send_texts_now(self, texts: Sequence[str]) -> bool:
        """Write these text frames now, in one transport write (a paced pair of media
        frames: one system call, not two); False (nothing done) as `send_text_now`."""
        if (self.close_sent or self.disconnected or not self.handshake_complete
                or self.initial_response is not None or not self.writable.is_set()
                or self.conn.state is not OPEN or self.conn.extensions
                or self.conn.expect_continuation_frame):
            return False
        self.transport.write(b"".join(_text_frame(text) for text in texts))
        return True

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        if not self.handshake_complete:  # a 101 may follow: the app's task is about to run
            self.scope["extensions"][LEAN_CHANNEL] = self

    # -- inbound -----------------------------------------------------------------------------
    def data_received(self, data: bytes) -> None:
        if self._lean_ok and self._lean():
            if self._rest:
                self._take(self._rest + data)
            elif (text := self._one_text(data)) is not None:
                self._deliver_text(text)
            else:
                self._take(data)
            return
        if self._rest:  # the short path ended inside a frame: websockets reads it whole
            data, self._rest = self._rest + data, b""
        if self._lean_ok is None:  # the handshake request, alone (uvicorn's upgrade)
            self._lean_ok = len(data) >= 4 and data.find(_END_OF_HEAD) == len(data) - 4
        elif not self.handshake_complete:
            self._lean_ok = False  # bytes before our 101: websockets' parser has them
        super().data_received(data)

    def _lean(self) -> bool:
        """The short path applies: the handshake is done and the socket plainly open. Once
        it is not (closing, closed, failed), it never applies again."""
        if not self.handshake_complete:
            return False
        conn = self.conn
        if (self.initial_response is None and not self.close_sent and conn.state is OPEN
                and not conn.extensions and conn.current_size is None and not conn.debug
                and conn.parser_exc is None):
            return True
        self._lean_ok = False
        return False

    def _limit(self) -> int | None:
        """websockets' own limit on a frame that starts a message."""
        limit, fragment = self.conn.max_message_size, self.conn.max_fragment_size
        if fragment is not None:
            limit = fragment if limit is None else min(limit, fragment)
        return limit

    def _one_text(self, data: bytes) -> str | None:
        """The text of `data` when it is exactly one complete, final, masked text frame
        with a 7- or 16-bit length within the limit and valid UTF-8 (what a quiet server
        reads of a media stream: one frame per read); None, having done nothing, for any
        other chunk, which `_take` then reads from scratch with every check."""
        end = len(data)
        if end < 6 or data[0] != _FIN_TEXT:
            return None
        length = data[1] ^ 0x80  # the mask bit must be set: without it, 128 or more
        if length < 126:
            at = 2
        elif length == 126 and end >= 8:
            length, at = data[2] << 8 | data[3], 4
        else:
            return None
        limit = self._max
        if end != at + 4 + length or (limit is not None and length > limit):
            return None
        try:
            return apply_mask(data[at + 4:], data[at:at + 4]).decode()
        except UnicodeDecodeError:
            return None

    def _take(self, data: bytes) -> None:
        """Read the frames of `data` (a chunk as the transport gave it, after the start of a
        frame kept from the last one). Only a chunk of plain frames is delivered here;
        any other chunk goes to websockets whole, as uvicorn would give it (so what an error
        does to the rest of its chunk is uvicorn's doing too), and after one with a frame
        of any kind but ping or pong, every later byte does."""
        pos, end, limit = 0, len(data), self._max
        messages: list[str | bytes] = []
        control = False
        while end - pos >= 2:
            head1, head2 = data[pos], data[pos + 1]
            masked = head2 & 0x80
            if masked and head1 in (_FIN_TEXT, _FIN_BINARY):
                ping = False
            elif masked and head1 in (_FIN_PING, _FIN_PONG) and head2 & 0x7F <= 125:
                ping = control = True
            else:  # websockets decides (it has all it needs to refuse a header by now)
                self._hand_over(data)
                return
            length, at = head2 & 0x7F, pos + 2
            if length == 126:
                if end - at < 2:
                    break
                length, at = _U16.unpack_from(data, at)[0], at + 2
            elif length == 127:
                if end - at < 8:
                    break
                length, at = _U64.unpack_from(data, at)[0], at + 8
            if limit is not None and length > limit:
                self._hand_over(data)  # PayloadTooBig, as soon as the length is read
                return
            after = at + 4 + length
            if after > end:
                break
            if not ping:
                payload = apply_mask(data[at + 4:after], data[at:at + 4])
                if head1 == _FIN_TEXT:
                    try:
                        messages.append(payload.decode())
                    except UnicodeDecodeError:  # uvicorn closes with 1007, as always
                        self._hand_over(data)
                        return
                else:
                    messages.append(payload)
            pos = after
        self._rest = data[pos:] if pos < end else b""
        if control:  # websockets answers pings: it gets these whole frames, in order
            super().data_received(data[:pos])
        else:
            self._deliver(messages)

    def _deliver(self, messages: list[str | bytes]) -> None:
        """The chunk's messages, in order: a text to the inline handler when nothing waits
        in the queue and it takes it, anything else as uvicorn delivers it."""
        for message in messages:
            if type(message) is str:
                self._deliver_text(message)
            elif not self.close_sent:  # as uvicorn: the app is past its close, reads go on
                self._queue({"type": "websocket.receive", "bytes": message})

    def _deliver_text(self, text: str) -> None:
        """One text: to the inline handler when nothing waits in the queue and it takes
        it, otherwise as uvicorn delivers it (dropped once the app sent its close)."""
        if self.close_sent:
            return
        handler = self._inline
        if handler is not None and self.queue.empty():
            try:
                if handler(text):
                    return
            except Exception:  # the app's task gets it and handles it its own way
                log.exception("the inline handler failed; the message goes the ASGI way")
        self._queue({"type": "websocket.receive", "text": text})

    def _queue(self, message: dict[str, Any]) -> None:
        self.queue.put_nowait(message)
        if not self.read_paused:  # uvicorn's pause of reading until the app caught up
            self.read_paused = True
            self.transport.pause_reading()

    def _hand_over(self, data: bytes) -> None:
        self._lean_ok, self._rest = False, b""
        super().data_received(data)


def _text_frame(text: str) -> bytes:
    """One final, unmasked text frame (a server's) holding `text`."""
    data = text.encode()
    n = len(data)
    if n < 126:
        return bytes((_FIN_TEXT, n)) + data
    if n < 65536:
        return bytes((_FIN_TEXT, 126)) + _U16.pack(n) + data
    return bytes((_FIN_TEXT, 127)) + _U64.pack(n) + data
