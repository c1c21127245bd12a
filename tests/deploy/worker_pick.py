"""Reaching a chosen worker of `dialflow serve --workers N` through its one port.

The kernel spreads new connections over the workers (SO_REUSEPORT, by a hash of the
connection), so a test cannot say where one goes, but every answer names the worker that
gave it (`X-Dialflow-Worker`). `post_on` opens keep-alive connections until one reaches a
worker `want` accepts (asking the harmless `/health/live`), then sends Twilio's signed POST
on that same connection; `websocket_on` opens signed media sockets until the handshake came
from such a worker (the others are closed before any `start`). Both check where the request
really went. Bounded tries: with two workers each try is a coin toss.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
from websockets.asyncio.client import ClientConnection, connect

from adapters.twilio.signature import SIGNATURE_HEADER, sign
from engine.app.server.worker_header import HEADER

WORKER = HEADER.decode()
MAX_TRIES = 64


async def post_on(want: Callable[[int], bool], url: str, form: dict[str, str],
                  token: str) -> tuple[httpx.Response, int]:
    """POST `form` to `url`, signed as Twilio does, on a worker `want(index)` accepts."""
    origin = httpx.URL(url).copy_with(path="/", query=None)
    for _ in range(MAX_TRIES):
        async with httpx.AsyncClient(timeout=20) as client:
            probe = await client.get(str(origin.join("/health/live")))
            index = int(probe.headers[WORKER])
            if not want(index):
                continue
            answer = await client.post(url, data=form,
                                       headers={SIGNATURE_HEADER: sign(token, url, form)})
            assert int(answer.headers[WORKER]) == index, "the POST went on another connection"
            return answer, index
    raise AssertionError(f"no connection reached the wanted worker in {MAX_TRIES} tries")


async def websocket_on(want: Callable[[int], bool], url: str,
                       token: str) -> tuple[ClientConnection, int]:
    """A media socket, opened with Twilio's signed handshake, held by a wanted worker."""
    for _ in range(MAX_TRIES):
        ws = await connect(url, additional_headers={SIGNATURE_HEADER: sign(token, url)},
                           proxy=None, max_size=None, compression=None)
        index = int(ws.response.headers[WORKER])
        if want(index):
            return ws, index
        await ws.close()
    raise AssertionError(f"no media socket reached the wanted worker in {MAX_TRIES} tries")
