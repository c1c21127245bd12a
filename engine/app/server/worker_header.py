"""`WorkerHeader`: under `dialflow serve --workers N`, every HTTP answer and WebSocket
handshake says which worker gave it (`X-Dialflow-Worker: <index>`), so an operator (or a
test) behind one port can tell which process a request reached. Only the worker's index,
nothing else. A pure ASGI middleware; no I/O. A WebSocket's header goes on its `accept`
(`ACCEPT_HEADERS` in the scope): wrapping `send` would put a layer on every audio frame.
"""

from __future__ import annotations

from typing import Any

from adapters.twilio.bridge.socket import ACCEPT_HEADERS

HEADER = b"x-dialflow-worker"


class WorkerHeader:
    def __init__(self, app: Any, services: Any) -> None:
        self.app = app
        self.services = services

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        slot = self.services.worker
        if slot is None or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        value = str(slot.index).encode()
        if scope["type"] == "websocket":
            await self.app({**scope, ACCEPT_HEADERS: [(HEADER, value)]}, receive, send)
            return

        async def send_with_header(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                message = {**message,
                           "headers": [*message.get("headers", []), (HEADER, value)]}
            await send(message)

        await self.app(scope, receive, send_with_header)
