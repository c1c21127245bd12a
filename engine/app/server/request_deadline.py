"""A deadline for a connection's first request: a TCP connection that has not sent complete
HTTP request headers (a WebSocket handshake or a webhook) within `seconds` is closed.

Without it uvicorn keeps such a connection forever (its keep-alive timeout starts only after
a response), so anyone could hold sockets and file descriptors without ever reaching the
app's own limits (`DIALFLOW_MAX_CALLS` counts media sockets, the start deadline starts at
the handshake). `serve` uses `DIALFLOW_START_DEADLINE` for both. A connection that upgraded
to a WebSocket is the media stream's business and is left alone. Wraps uvicorn's own HTTP
protocol (httptools when installed, else h11); touches only the transports.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from uvicorn.protocols.http.auto import AutoHTTPProtocol

log = logging.getLogger("dialflow.server")


def with_request_deadline(seconds: float, base: type[Any] = AutoHTTPProtocol) -> type[Any]:
    """An HTTP protocol class for `uvicorn.Config(http=...)` that enforces the deadline."""

    class RequestDeadline(base):  # type: ignore[misc,valid-type]
        _headers_seen = False
        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._deadline = asyncio.get_running_loop().call_later(seconds, self._due)

        def connection_lost(self, exc: Exception | None) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

        def on_headers_complete(self) -> None:  # httptools
            self._headers_seen = True
            super().on_headers_complete()

        def handle_events(self) -> None:  # h11
            super().handle_events()
            if self.cycle is not None:
                self._headers_seen = True

        def _due(self) -> None:
            transport = self.transport
            if self._headers_seen or transport.is_closing() or (
                    transport.get_protocol() is not self):  # upgraded: a media stream now
                return
            peer = transport.get_extra_info("peername")
            log.info("connection from %s closed: no complete request within %.0f s",
                     peer[0] if peer else "?", seconds)
            transport.close()

    return RequestDeadline
