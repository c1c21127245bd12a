"""A media stream that reached a worker not holding its call, relayed to the one that does.

Under `dialflow serve --workers N`, the stream that brings a caller back from a warm
transfer's `<Dial>` can land on any worker, but the parked call waits in the worker that
had its first stream. The receiving worker has checked the handshake signature and the
`start` binding; `relay_stream` then opens the owner's `/internal/media` on its Unix socket
(internal_app.py), sends it the `start`, and copies every message both ways until either
side closes, closing the other with the same code. Messages stay bounded by the limits
both sockets already have. Touches the two sockets only.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from starlette.websockets import WebSocket
from websockets.asyncio.client import ClientConnection, unix_connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake

from engine.app.server.forwarding import MEDIA_PATH
from engine.redaction import escape_id

log = logging.getLogger("dialflow.workers")
CONNECT_TIMEOUT = 5.0
TRY_AGAIN_LATER = 1013


async def _to_owner(ws: WebSocket, inner: ClientConnection) -> None:
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        await inner.send(text if text is not None else (message.get("bytes") or b""))


async def _from_owner(ws: WebSocket, inner: ClientConnection) -> None:
    with contextlib.suppress(ConnectionClosed):
        async for message in inner:
            if isinstance(message, str):
                await ws.send_text(message)
            else:
                await ws.send_bytes(message)


async def relay_stream(ws: WebSocket, socket_path: str, start: str, *, max_size: int,
                       call_id: str, index: int) -> None:
    """Relay `ws` (whose `start` message was `start`) to the owner at `socket_path`."""
    try:
        inner = await asyncio.wait_for(unix_connect(
            socket_path, uri=f"ws://dialflow-worker{MEDIA_PATH}", max_size=max_size,
            compression=None, proxy=None), CONNECT_TIMEOUT)
    except (OSError, InvalidHandshake, TimeoutError) as exc:
        log.error("call %s: worker %d holds the call but its socket did not open (%s); "
                  "closing the stream", call_id, index, escape_id(type(exc).__name__, 60))
        with contextlib.suppress(Exception):
            await ws.close(TRY_AGAIN_LATER)
        return
    log.info("call %s: media stream relayed to worker %d, which holds the call", call_id,
             index)
    tasks: list[asyncio.Task[Any]] = []
    try:
        await inner.send(start)
        tasks = [asyncio.ensure_future(_to_owner(ws, inner)),
                 asyncio.ensure_future(_from_owner(ws, inner))]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    except ConnectionClosed:
        pass
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        code = inner.close_code
        with contextlib.suppress(Exception):
            await inner.close()
        with contextlib.suppress(Exception):
            await ws.close(code if code and code not in (1005, 1006) else 1000)
