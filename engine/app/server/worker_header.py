"""`WorkerHeader`: under `dialflow serve --workers N`, every HTTP answer and WebSocket
handshake says which worker gave it (`X-Dialflow-Worker: <index>`), so an operator (or a
test) behind one port can tell which process a request reached. Only the worker's index,
nothing else. A pure ASGI middleware; no I/O.
"""

from __future__ import annotations

from typing import Any

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

        async def send_with_header(message: dict[str, Any]) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message = {**message,
                           "headers": [*message.get("headers", []), (HEADER, value)]}
            await send(message)

        await self.app(scope, receive, send_with_header)
