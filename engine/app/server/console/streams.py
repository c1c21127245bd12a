"""The console's event streams on the server's loop: the live list and one call's items,
sent from what the reader process (`relay.py`) pushed, ready-made.

A live-list viewer sends the newest list message at most once every `LIST_EVERY` seconds
(one message for all of them). A call viewer sends its call's pushed events from its cursor
on; when it is not yet caught up, or fell behind the shared ring, it asks the reader for the
next chunk from its cursor (paced by its own sends: nothing queues per viewer). At most
`MAX_VIEWERS` streams are open per process (the next gets 503). Streams end once the server
is going down (`stopping`), or when the reader they read from was replaced (the browser
reconnects and resumes from its last event id). Touches: the console's relay.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Any, Protocol

from fastapi.responses import PlainTextResponse, Response

from .relay import ReaderGone, Relay
from .sse import EventStream

MAX_VIEWERS = 16
LIST_EVERY = 1.0  # seconds between two pushes of the live list to one viewer
HEARTBEAT = 10.0  # seconds of quiet before a keep-alive comment
KEEP_ALIVE = b": keep-alive\n\n"


class Watched(Protocol):
    relay: Relay
    streams: int
    stopping: Callable[[], bool]


def stream(console: Watched, events: Callable[[int], AsyncIterator[bytes]],
           headers: dict[str, str]) -> Response:
    """The event stream `events(generation)` as a response, or 503 at `MAX_VIEWERS`."""
    if console.streams >= MAX_VIEWERS:
        return PlainTextResponse(f"the console has {MAX_VIEWERS} viewers already: try again "
                                 "later", 503, headers={**headers, "Retry-After": "10"})

    async def counted() -> AsyncIterator[bytes]:
        console.streams += 1
        relay, generation = console.relay, -1
        try:
            yield b"retry: 2000\n\n"
            generation = await relay.start()
            relay.watch(generation, 1)
            async with contextlib.aclosing(events(generation)) as inner:
                async for text in inner:
                    yield text
        except ReaderGone as exc:
            yield f": {exc}: reconnecting\n\n".encode()
        finally:
            relay.watch(generation, -1)  # (nothing when the reader was never reached)
            console.streams -= 1

    return EventStream(counted(), {**headers, "X-Accel-Buffering": "no"})


def live_events(console: Watched) -> Callable[[int], AsyncIterator[bytes]]:
    async def events(generation: int) -> AsyncIterator[bytes]:
        relay = console.relay
        _, last = await relay.ask({"op": "live"})  # read fresh for this viewer
        yield last
        while True:
            await asyncio.sleep(LIST_EVERY)
            while relay.live == last or not relay.live:
                if relay.generation != generation or console.stopping():
                    return
                await relay.live_changed.wait()  # a push, or the relay's once-a-second wake
            last = relay.live
            yield last

    return events


def call_events(console: Watched, key: str, cursor: int) -> Callable[[int],
                                                                      AsyncIterator[bytes]]:
    """The call's items from `cursor` on, then whatever it adds, until it has ended."""
    async def events(generation: int) -> AsyncIterator[bytes]:
        relay = console.relay
        followed = relay.follow(generation, key)
        position, caught_up, quiet = cursor, False, time.monotonic()
        try:
            while relay.generation == generation and not console.stopping():
                pushed = followed.at(position)
                if pushed is not None:
                    _, position, done, body = pushed
                    yield body
                    if done:
                        return
                    quiet = time.monotonic()
                elif not caught_up or position < followed.known or followed.done:
                    head, body = await relay.ask({"op": "items", "key": key,
                                                  "from": position})
                    if not head.get("found"):
                        return
                    if body:
                        yield body
                        quiet = time.monotonic()
                    if head.get("done"):
                        return
                    position, caught_up = _after(head, followed)
                else:
                    if time.monotonic() - quiet >= HEARTBEAT:
                        quiet = time.monotonic()
                        yield KEEP_ALIVE
                    await followed.changed.wait()  # a push, or the relay's wake
        finally:
            relay.unfollow(generation, key)

    return events


def _after(head: dict[str, Any], followed: Any) -> tuple[int, bool]:
    """(the cursor after a catch-up answer, whether it reached the call's end then)."""
    end, count = int(head["e"]), int(head["n"])
    followed.known = max(followed.known, count)
    return end, end >= count
