"""Draining for shutdown (the first SIGTERM): wait for the active calls, up to `--drain`
seconds, and leave no caller on hold behind.

A caller on hold during a warm transfer is an active call like any other: the drain waits
for it, and a human who picks up in time is connected (the webhooks are still served; only
new calls are refused). A transfer whose human has not picked up `HOLD_MARGIN` seconds
before the deadline (at most half the drain; one whose human is hearing the whisper is
left to join) is given up on the way a no-show is: the
human's phone stops ringing, the hold music stops and the flow gets `transfer.failed`
("the server is shutting down"), so it can take a message (the default flow's ticket) and
say goodbye before the server stops. Touches only the services' streams and warm transfers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from adapters.twilio.warm import Parked

log = logging.getLogger("dialflow.serve")
HOLD_MARGIN = 15.0  # seconds a flow keeps, after a given-up transfer, for its message
TICK = 0.2
SHUTTING_DOWN = "the server is shutting down"


async def drain(services: Any, seconds: float) -> None:
    """Return once no call is active, or after `seconds`; transfers still ringing near the
    end are given up (`give_up_transfers`)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    give_up_at = deadline - min(HOLD_MARGIN, seconds / 2)
    given_up = False
    while services.streams and loop.time() < deadline:
        if not given_up and loop.time() >= give_up_at:
            given_up = True
            await give_up_transfers(services)
        await asyncio.sleep(TICK)


async def give_up_transfers(services: Any) -> int:
    """Give up every warm transfer still ringing (not one whose human hears the whisper:
    they are seconds from the bridge); return how many."""
    entries = [e for e in services.warm.ringing() if not e.answered]
    for entry in entries:
        await _give_up(entry)
    return len(entries)


async def _give_up(entry: Parked) -> None:
    call = getattr(entry.stream, "call", None)
    entry.outcome = "transfer.failed"  # a late whisper or join now gets <Hangup/>
    speaker = getattr(entry.stream, "speaker", None)
    if speaker is not None:
        speaker.stop_hold()
    log.warning("call %s: shutting down while the human was rung; stopping the ringing, "
                "the flow takes the caller back", entry.stream.call_id)
    if call is not None and not call.ended and (not entry.state or call.state == entry.state):
        # only to the state that rang; dial_status: from outside the call (replay.py)
        call.post("transfer.failed", error=SHUTTING_DOWN, dial_status="shutdown")
    if entry.cancel_leg is not None:
        with contextlib.suppress(Exception):  # bounded by the REST client's timeout
            await entry.cancel_leg()
