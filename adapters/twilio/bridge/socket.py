"""`MediaSocket`: one Media Streams WebSocket, read and written on its raw ASGI channel.

Twilio sends 50 messages a second per call and the agent's audio goes back at the same
rate, so the per-message path matters: this reads and writes the server's own ASGI
`receive`/`send` directly instead of through starlette's `WebSocket` wrapper (one coroutine
and its state checks less per message each way). The handshake — the URL and headers the
signature check reads, `accept`, `close` — still goes through starlette's `WebSocket`
(`handshake`), which is used once per call. After a disconnect every `receive` raises
`WebSocketDisconnect` again rather than waiting on a channel that will never speak.
Touches only the one socket it is given.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket, WebSocketDisconnect

# Headers a middleware wants on the handshake's answer (scope key; a list of byte pairs), added
# at `accept` so the frames that follow go straight to the server's own `send`.
ACCEPT_HEADERS = "dialflow.accept_headers"


class MediaSocket:
    def __init__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.handshake = WebSocket(scope, receive, send)
        self._receive = receive
        self._send = send
        self._gone: tuple[int, Any] | None = None  # the disconnect, once it came

    async def accept(self) -> None:
        await self.handshake.accept(headers=self.handshake.scope.get(ACCEPT_HEADERS))

    async def receive(self) -> str | bytes:
        """The next message's text (or bytes); `WebSocketDisconnect` once the peer left."""
        if self._gone is not None:
            raise WebSocketDisconnect(*self._gone)
        message = await self._receive()
        kind = message["type"]
        if kind == "websocket.receive":
            text = message.get("text")
            return text if text is not None else (message.get("bytes") or b"")
        if kind == "websocket.disconnect":
            self._gone = (message.get("code", 1000), message.get("reason"))
            raise WebSocketDisconnect(*self._gone)
        raise RuntimeError(f"unexpected ASGI message {kind!r:.40} on a media socket")

    async def send_text(self, text: str) -> None:
        """Send one text message; raises (the server's own error) once the socket is gone."""
        await self._send({"type": "websocket.send", "text": text})

    async def close(self, code: int = 1000) -> None:
        await self.handshake.close(code)
