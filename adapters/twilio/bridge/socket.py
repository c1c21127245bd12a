"""`MediaSocket`: one Media Streams WebSocket, read and written on its raw ASGI channel.

Twilio sends 50 messages a second per call and the agent's audio goes back at the same
rate, so the per-message path matters: this reads and writes the server's own ASGI
`receive`/`send` directly instead of through starlette's `WebSocket` wrapper (one coroutine
and its state checks less per message each way). The handshake — the URL and headers the
signature check reads, `accept`, `close` — still goes through starlette's `WebSocket`
(`handshake`), which is used once per call. After a disconnect every `receive` raises
`WebSocketDisconnect` again rather than waiting on a channel that will never speak.
When the server offers its short path (`LEAN_CHANNEL` in the scope's extensions:
engine/app/server/lean_ws.py), `inline` lets a handler take texts as they arrive, without
the ASGI queue or a wake-up of the stream's task, while the stream waits in `receive`
(`parked`), and `send_text` / `send_texts_now` write frames straight to it; without it
(another ASGI server) both go the ASGI way. Touches only the one socket it is given.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

# Headers a middleware wants on the handshake's answer (scope key; a list of byte pairs), added
# at `accept` so the frames that follow go straight to the server's own `send`.
ACCEPT_HEADERS = "dialflow.accept_headers"
# The server's short path for this socket (scope extension key), when it offers one.
LEAN_CHANNEL = "dialflow.lean_channel"


class LeanChannel(Protocol):
    def set_inline(self, handler: Callable[[str], bool] | None) -> None:
        """Texts `handler` returns True for are taken as they arrive (None: no more)."""

    def send_text_now(self, text: str) -> bool:
        """Send one text frame now; False (nothing sent) when ASGI must do it."""

    def send_texts_now(self, texts: list[str]) -> bool:
        """Send these text frames now, in one write; False (nothing sent) when ASGI must."""


class MediaSocket:
    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.handshake = WebSocket(scope, receive, send)
        self._receive = receive
        self._send = send
        self._gone: tuple[int, Any] | None = None  # the disconnect, once it came
        self._lean: LeanChannel | None = (scope.get("extensions") or {}).get(LEAN_CHANNEL)
        self.parked = False  # waiting in `receive`: nothing of ours is being handled

    @property
    def short_path(self) -> bool:
        """The server offers its short path (`inline`, `send_texts_now`) for this socket."""
        return self._lean is not None

    def inline(self, handler: Callable[[str], bool] | None) -> bool:
        """Have `handler` take texts as they arrive, while nothing is queued for `receive`;
        True when the server offers it (otherwise every text comes through `receive`)."""
        if self._lean is None:
            return False
        self._lean.set_inline(handler)
        return True

    async def accept(self) -> None:
        await self.handshake.accept(headers=self.handshake.scope.get(ACCEPT_HEADERS))

    async def receive(self) -> str | bytes:
        """The next message's text (or bytes); `WebSocketDisconnect` once the peer left."""
        if self._gone is not None:
            raise WebSocketDisconnect(*self._gone)
        self.parked = True
        try:
            message = await self._receive()
        finally:
            self.parked = False
        kind = message["type"]
        if kind == "websocket.receive":
            text = message.get("text")
            return text if text is not None else (message.get("bytes") or b"")
        if kind == "websocket.disconnect":
            self._gone = (message.get("code", 1000), message.get("reason"))
            raise WebSocketDisconnect(*self._gone)
        raise RuntimeError(f"unexpected ASGI message {kind!r:.40} on a media socket")

    def send_texts_now(self, texts: list[str]) -> bool:
        """Send these text messages now, in one write, if the server's short path can;
        False (nothing sent) otherwise: `send_text` then sends each the ASGI way."""
        lean = self._lean
        return lean is not None and lean.send_texts_now(texts)

    async def send_text(self, text: str) -> None:
        """Send one text message; raises (the server's own error) once the socket is gone."""
        lean = self._lean
        if lean is not None and lean.send_text_now(text):
            return
        await self._send({"type": "websocket.send", "text": text})

    async def close(self, code: int = 1000) -> None:
        await self.handshake.close(code)
