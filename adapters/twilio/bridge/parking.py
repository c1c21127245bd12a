"""A call that outlives its media stream during a warm transfer, and takes the next one.

When Twilio stops a stream because a warm transfer replaced its TwiML with a `<Dial>`
(adapters/twilio/warm.py), `await_return` keeps the call: the STT session and the barge-in
gate are closed (nobody speaks into a stopped stream), the agent's audio is held, and the
stream waits — for the stream that brings the caller back, for the call to end (a human
answered: the flow went to a final state), or at most `deadline` seconds. A returning stream
is adopted by `adopt`: the new socket and its session (with the call's one playback
ledger), the held audio goes on to the new stream sid, a fresh STT session listens, and the
dial's outcome is posted, so the flow's next words reach the caller. Touches only the
stream it is given and its host's warm-transfer table.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from engine.redaction import escape_id

if TYPE_CHECKING:
    from adapters.twilio.session import StreamSession

MediaStream = Any  # bridge/stream.py's MediaStream (it imports this module, not back)

log = logging.getLogger("dialflow.stream")
RETURN_MARGIN = 60.0  # seconds beyond the ring time for the dial's report and the new stream


@dataclass(frozen=True)
class Returning:
    """What the stream that brings the caller back hands over."""

    ws: Any  # the new WebSocket (its handler keeps it open until `released` is set)
    session: StreamSession  # it has seen `connected` and `start`
    released: asyncio.Event


async def await_return(stream: MediaStream) -> bool:
    """After the stream stopped: True when the caller came back on a new stream (adopted),
    False when the call is over for this stream (not parked, ended, or nobody came)."""
    desk, call = stream.services.warm, stream.call
    entry = desk.get(stream.session.call_sid) if desk is not None else None
    if entry is None or entry.stream is not stream or call is None or call.ended:
        return False
    await _suspend(stream)
    log.info("call %s: the media stream left for a warm transfer; the call waits",
             stream.call_id)
    waiting = {entry.returned}
    if stream._consumer is not None:
        waiting.add(stream._consumer)  # type: ignore[arg-type]
    await asyncio.wait(waiting, timeout=entry.ring_seconds + RETURN_MARGIN,
                       return_when=asyncio.FIRST_COMPLETED)
    if not entry.returned.done() or entry.returned.cancelled():
        why = "the call ended" if call.ended else "no stream came back in time"
        log.info("call %s: warm transfer over for this stream (%s)", stream.call_id, why)
        desk.unpark(entry.call_sid, stream)
        return False
    returning: Returning = entry.returned.result()
    desk.unpark(entry.call_sid, stream)
    _adopt(stream, returning)
    event, data = entry.outcome or ("transfer.failed", {"error": "no outcome reported"})
    log.info("call %s: the caller is back on a new media stream (%s)", stream.call_id,
             escape_id(event))
    stream._post(event, **data)
    return True


async def _suspend(stream: MediaStream) -> None:
    if stream.barge_in is not None:
        stream.barge_in.close()
        stream.barge_in = None
    if stream.outbound is not None:
        stream.outbound.pause()  # what the flow says meanwhile waits for the caller
    if stream.stt is not None:
        with contextlib.suppress(Exception):
            await stream.stt.close()
        stream.stt = None
    stream.session.ledger.marks_cleared()  # marks sent to the stopped stream never echo


def _adopt(stream: MediaStream, returning: Returning) -> None:
    if stream.released is not None:
        stream.released.set()
    ledger = stream.session.ledger
    returning.session.ledger = ledger
    stream.ws, stream.session, stream.released = (returning.ws, returning.session,
                                                  returning.released)
    outbound = stream.outbound
    if outbound is not None:
        outbound.stream_sid = returning.session.stream_sid
        outbound.on_mark, outbound.on_clear = (returning.session.mark_sent,
                                               returning.session.clear_sent)
        outbound.gone = False
        outbound.resume()
    stream.stt = stream.services.stt.open(stream.call_id, stream._stt_event)
    stream._attach_turns()
