"""A call's media stream during a warm transfer: leaving for the conference, and letting go
of the human's ringing leg when the call ends first.

The caller stays on this stream while the human is rung (adapters/twilio/warm.py). Once the
human has heard the whisper, the caller's TwiML is replaced by the conference, so Twilio
stops this stream: that `stop` is no hang-up (`leaving_for_bridge`), and `await_bridge` keeps
the call until the flow has taken `transfer.completed` to its end (at most `BRIDGE_MARGIN`
seconds). A call that ends any other way while the human's phone rings (the caller hung up,
the flow gave up) stops that ringing: `release`. Touches only the stream it is given and its
host's warm-transfer table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

log = logging.getLogger("dialflow.stream")
BRIDGE_MARGIN = 30.0  # seconds for the bridged call's `transfer.completed` to end it
MediaStream = Any  # bridge/stream.py's MediaStream (it imports this module, not back)


def _entry(stream: MediaStream) -> Any:
    desk = stream.services.warm
    entry = desk.get(stream.session.call_sid) if desk is not None else None
    return entry if entry is not None and entry.stream is stream else None


def leaving_for_bridge(stream: MediaStream) -> bool:
    """The stream stops because the caller is being moved into the conference."""
    entry = _entry(stream)
    return entry is not None and (entry.bridging or entry.bridged)


async def await_bridge(stream: MediaStream) -> None:
    """After a stop for the bridge: wait (bounded) for the call to reach its end."""
    if stream._consumer is None or stream.call is None or stream.call.ended:
        return
    log.info("call %s: the caller left for the conference; the call ends with the flow",
             stream.call_id)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(asyncio.shield(stream._consumer), BRIDGE_MARGIN)


async def release(stream: MediaStream) -> None:
    """The stream is over: forget its warm transfer; stop the human's phone if it still
    rings for a caller who is no longer there. Never raises."""
    desk = stream.services.warm
    entry = desk.unpark(stream.session.call_sid, stream) if desk is not None else None
    if entry is None or entry.settled or entry.cancel_leg is None:
        return
    log.info("call %s: the call ended while the human was rung; stopping the ringing",
             stream.call_id)
    with contextlib.suppress(Exception):
        await entry.cancel_leg()
