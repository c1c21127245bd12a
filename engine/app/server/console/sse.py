"""`EventStream`: the response that sends a stream of server-sent events (their text is made
by `wire.event`, in the reader process) to one console viewer.

It sends what its iterator yields (ready-made text: the loop's work per message
is one send) and ends the iterator when the viewer disconnects. A viewer that takes nothing
for `STUCK` seconds (its socket and the server's write buffer full: a stuck or vanished
client) is closed, with a log line saying so, instead of holding a stream slot for as long
as TCP keeps the connection: one timer per stream checks it, nothing per message. Touches:
the ASGI connection it answers, nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import Response

log = logging.getLogger("dialflow.console")

STUCK = 30.0  # seconds a viewer may take nothing before its stream is closed
Message = MutableMapping[str, Any]


class EventStream(Response):
    """A response sending `events` as `text/event-stream` until they end or the viewer
    goes away."""

    def __init__(self, events: AsyncIterator[str | bytes], headers: dict[str, str],
                 stuck: float | None = None):
        super().__init__(None, 200, headers, "text/event-stream")
        self.raw_headers = [h for h in self.raw_headers if h[0] != b"content-length"]
        self.events = events
        self.stuck = STUCK if stuck is None else stuck
        self.sending_since = 0.0  # loop time a send began and has not returned; 0 if none
        self.closed_stuck = False

    async def __call__(self, scope: Message, receive: Callable[[], Awaitable[Message]],  # type: ignore[override]
                       send: Callable[[Message], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        await send({"type": "http.response.start", "status": self.status_code,
                    "headers": self.raw_headers})
        pump = asyncio.create_task(self._pump(send, loop))
        listener = asyncio.create_task(_disconnected(receive))
        watchdog = loop.call_later(self.stuck / 2, self._check, loop, pump)
        try:
            await asyncio.wait({pump, listener}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            watchdog.cancel()
            for task in (pump, listener):
                task.cancel()
            await asyncio.gather(pump, listener, return_exceptions=True)
            with contextlib.suppress(Exception):
                await self.events.aclose()  # type: ignore[attr-defined]

    async def _pump(self, send: Callable[[Message], Awaitable[None]],
                    loop: asyncio.AbstractEventLoop) -> None:
        async for text in self.events:
            self.sending_since = loop.time()
            await send({"type": "http.response.body", "more_body": True,
                        "body": text.encode() if isinstance(text, str) else text})
            self.sending_since = 0.0
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _check(self, loop: asyncio.AbstractEventLoop, pump: asyncio.Task[None]) -> None:
        if pump.done():
            return
        if self.sending_since and loop.time() - self.sending_since >= self.stuck:
            self.closed_stuck = True
            log.warning("a console viewer took no data for %.0f s: its event stream is "
                        "closed (it reconnects once it reads again)", self.stuck)
            pump.cancel()
            return
        loop.call_later(self.stuck / 2, self._check, loop, pump)


async def _disconnected(receive: Callable[[], Awaitable[Message]]) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
