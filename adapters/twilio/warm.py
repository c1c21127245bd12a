"""Warm transfers in progress in this process: the call whose media stream left for a
`<Dial>`, the whisper its human hears, and the way its caller comes back.

A warm transfer replaces the call's TwiML (`<Connect><Stream>`) with `<Dial><Number url=..>`,
so Twilio stops the media stream; the `Call` lives on in its `MediaStream`, which `park`s
here. Twilio then calls two signed webhooks (engine/app/server/transfer_hooks.py): the
`<Number url>` when the human answers (the whisper: `answered`), and the `<Dial action>` when
the dial ends (`DialCallStatus`, turned into an event by `dial_outcome`). If the caller is
still there and nobody took the call, the action answers with a new `<Connect><Stream>`;
that stream's `start` (bound to the same CallSid by the webhook) is handed to the parked
stream (`hand_over`), which posts the outcome then, with the caller back on the line.
Entries end with their stream (`unpark`). Only asyncio futures, no I/O.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

STATUS_PATH = "/webhook/transfer/status"
WHISPER_PATH = "/webhook/transfer/whisper"
# Twilio's DialCallStatus -> the event the flow gets ("completed": they talked)
DIAL_OUTCOMES = {"completed": "transfer.completed", "answered": "transfer.completed",
                 "busy": "transfer.busy", "no-answer": "transfer.no_answer",
                 "canceled": "transfer.canceled", "failed": "transfer.failed"}
CALLER_GONE = frozenset({"completed", "canceled", "failed", "busy", "no-answer"})  # CallStatus
MAX_PARKED = 1000  # warm transfers in progress per process (each is one live call)


def dial_outcome(dial_status: str) -> tuple[str, dict[str, str]]:
    """The event (and fields) for Twilio's `DialCallStatus`; anything unknown is a failure."""
    event = DIAL_OUTCOMES.get(dial_status, "transfer.failed")
    if event == "transfer.failed":
        shown = dial_status if dial_status in DIAL_OUTCOMES else "unknown"
        return event, {"error": f"Twilio's dial ended with DialCallStatus {shown}",
                       "dial_status": shown}
    return event, {}


@dataclass
class Parked:
    """One call waiting for its dial to end. `stream` is its MediaStream (typed loosely: the
    bridge imports this module, not the other way round)."""

    call_sid: str
    caller: str
    whisper: str
    stream: Any
    ring_seconds: int = 25
    state: str = ""  # the flow state that started the dial: the human is connected only
    # while the call is still there (not after its timer gave up and took a message)
    answered: bool = False
    outcome: tuple[str, dict[str, str]] | None = None  # reported by the Dial action
    returned: asyncio.Future[Any] = field(default_factory=lambda: asyncio.get_running_loop()
                                          .create_future())


class WarmTransfers:
    """The parked calls of one server process, by CallSid."""

    def __init__(self, limit: int = MAX_PARKED) -> None:
        self.limit = limit
        self._calls: dict[str, Parked] = {}

    def park(self, call_sid: str, caller: str, whisper: str, stream: Any,
             ring_seconds: int = 25, state: str = "") -> Parked:
        """Register a call about to leave its stream for a dial; raises `RuntimeError` when
        too many are in progress (the transfer then fails and the flow takes a message)."""
        if call_sid not in self._calls and len(self._calls) >= self.limit:
            raise RuntimeError(f"{self.limit} warm transfers are in progress already")
        entry = Parked(call_sid, caller, whisper, stream, ring_seconds, state)
        self._calls[call_sid] = entry
        return entry

    def get(self, call_sid: str) -> Parked | None:
        return self._calls.get(call_sid)

    def unpark(self, call_sid: str, stream: Any) -> None:
        """Forget the call's entry if it is still `stream`'s."""
        entry = self._calls.get(call_sid)
        if entry is not None and entry.stream is stream:
            del self._calls[call_sid]
            if not entry.returned.done():
                entry.returned.cancel()

    def hand_over(self, call_sid: str, returning: Any) -> bool:
        """Give the call's parked stream the stream that came back for it. True when taken:
        only once, and only after the dial reported an outcome that brings the caller back."""
        entry = self._calls.get(call_sid)
        if entry is None or entry.outcome is None or entry.returned.done():
            return False
        entry.returned.set_result(returning)
        return True

    def __len__(self) -> int:
        return len(self._calls)
