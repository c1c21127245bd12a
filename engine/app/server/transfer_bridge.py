"""The caller's move into the warm transfer's conference, after the join webhook answered.

The join webhook answers the human with the conference at once and leaves the REST update
of the caller's call (adapters/twilio/rest.py `_bridge`, bounded by the client's timeout)
to `move_caller`, a task of its own: under `serve --workers N` a forwarded callback has
5 s (forwarding.py), and a slow Twilio must not turn a human who answered into a
`<Hangup/>` while the caller is moved anyway. Either way the outcome is one event and one
log line:

- moved: `transfer.completed` (the flow goes to its end; the caller's stream stops next);
- refused or timed out: the human's leg hears `SORRY` and is hung up (`turn_away`; if that
  fails too, its ringing/call is ended), the flow gets `transfer.failed` with Twilio's
  reason, and the caller is still on our stream with the agent.

Touches only the transfer's entry (adapters/twilio/warm.py `Parked`) and its call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from adapters.twilio.warm import Parked

log = logging.getLogger("dialflow.server")
SORRY = "Sorry, the caller could not be connected. Goodbye."


def start_move(entry: Parked, call: Any) -> None:
    """Run `move_caller` in the background; the task is kept on the entry (and so is not
    collected before it ends)."""
    entry.bridging = True  # the stream's coming `stop` is this, not a hang-up
    entry.task = asyncio.get_running_loop().create_task(move_caller(entry, call))


async def move_caller(entry: Parked, call: Any) -> None:
    """Move the caller into the conference; post the outcome; never raises."""
    assert entry.bridge is not None
    try:
        await entry.bridge()
    except Exception as exc:  # TelephonyError, or anything unexpected: roll back
        entry.bridging, entry.outcome = False, "transfer.failed"
        log.warning("call %s: the caller could not be moved into the conference (%s); the "
                    "human is told and hung up, the caller stays with the agent",
                    entry.stream.call_id, exc)
        await _turn_away(entry)
        # dial_status: a report from outside the call (a replay posts it again, replay.py)
        call.post("transfer.failed", error=f"the bridge failed: {exc}",
                  dial_status="bridge-failed")
        return
    entry.bridging, entry.bridged, entry.outcome = False, True, "transfer.completed"
    log.info("call %s: the human and the caller are connected", entry.stream.call_id)
    call.post("transfer.completed")


async def _turn_away(entry: Parked) -> None:
    """The human waits alone in the conference: apologise and hang up their leg."""
    for step in (entry.turn_away and (lambda: entry.turn_away(SORRY)), entry.cancel_leg):
        if step is None:
            continue
        with contextlib.suppress(Exception):
            await step()
            return
    log.error("call %s: the human's leg could not be hung up after the failed bridge",
              entry.stream.call_id)
