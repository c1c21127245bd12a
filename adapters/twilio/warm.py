"""Warm transfers in progress in this process: the caller on hold, the human's ringing leg,
the whisper, and how the two meet.

Why this design (Twilio offers three ways to give a caller music while a human is rung):
- `<Dial>` (what this replaced) plays only a ringback tone (`ringTone` picks a country's),
  never music, and takes the caller off our media stream, which then has to come back.
- `<Enqueue waitUrl>` / `<Conference waitUrl>` make Twilio fetch and play our audio; the
  caller leaves our stream at once, so a no-answer needs a new stream, and how soon the
  music stops is up to Twilio's wait loop.
- Chosen: the caller **stays on our media stream**, where the speaker loops the hold audio
  (bridge/speaker.py), while the human's phone is rung by a separate REST call
  (`Calls.create` with `Timeout` = the ring time, `Url` = the whisper, `StatusCallback` = its
  final status). We control the music frame by frame and stop it (`clear`) the moment an
  outcome arrives; busy, no answer, canceled and failed need no new stream — the caller
  never left, the flow's next words just replace the music; and a call stays with the
  worker and socket it started on. Only when the human has heard the whisper are both legs
  put in one `<Conference>` named after the caller's CallSid (the caller's by a REST update of
  its TwiML, the human's by the answer to the join webhook), each ending it on exit.
  The join is answered at once and the caller's REST move finishes in the background
  (`Parked.task`): a slow Twilio never holds the human's webhook past the 5 s a forwarded
  callback may take under `serve --workers N`. A move Twilio refuses is rolled back: the
  human's leg is sent an apology and hung up (`turn_away`), the caller stays on our stream.

The webhooks (engine/app/server/transfer_hooks.py): `WHISPER_PATH?parent=CA…` answers the
human's leg with `<Say>` the summary (`transfer.answered`: the human picked up), then
`<Redirect>` to `JOIN_PATH`, where the bridge happens (`transfer.completed` once the caller
is in the conference); `STATUS_PATH?parent=CA…` is the leg's final status, turned
into an event by `leg_outcome` unless the legs were bridged. Entries end with their stream
(`unpark`). Only bookkeeping, no I/O.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

WHISPER_PATH = "/webhook/transfer/whisper"
JOIN_PATH = "/webhook/transfer/join"
STATUS_PATH = "/webhook/transfer/status"
# the human's leg's final CallStatus -> the event the flow gets (the caller is on hold still)
LEG_OUTCOMES = {"busy": "transfer.busy", "no-answer": "transfer.no_answer",
                "canceled": "transfer.canceled", "failed": "transfer.failed",
                "completed": "transfer.no_answer"}  # picked up, hung up before the bridge
MAX_PARKED = 1000  # warm transfers in progress per process (each is one live call)


def leg_outcome(status: str) -> tuple[str, dict[str, str]]:
    """The event (and fields) for the final `CallStatus` of the human's leg; anything
    unknown is a failure."""
    event = LEG_OUTCOMES.get(status, "transfer.failed")
    if event == "transfer.failed":
        shown = status if status in LEG_OUTCOMES else "unknown"
        return event, {"error": f"the human's leg ended with CallStatus {shown}",
                       "dial_status": shown}
    return event, {}


def conference_name(call_sid: str) -> str:
    """The room both legs meet in: one per caller's call, known to nobody else."""
    return f"dialflow-{call_sid}"


@dataclass
class Parked:
    """One caller on hold while a human is rung. `stream` is its MediaStream (typed loosely:
    the bridge imports this module, not the other way round)."""

    call_sid: str
    caller: str
    whisper: str
    stream: Any
    ring_seconds: int = 25
    state: str = ""  # the flow state that rang: the human is connected only while the call
    # is still there (not after its timer gave up and took a message)
    leg_sid: str = ""  # the human's call, once Twilio accepted it
    join_url: str = ""  # where the human's leg goes after the whisper (signed like the rest)
    bridging: bool = False  # the caller's TwiML is being replaced by the conference
    bridged: bool = False  # both legs are in the conference: the human has the call
    outcome: str = ""  # the event already posted for this transfer, if any
    answered: bool = False  # the human's leg fetched the whisper
    bridge: Callable[[], Awaitable[None]] | None = None  # move the caller into the conference
    cancel_leg: Callable[[], Awaitable[None]] | None = None  # stop the human's phone ringing
    turn_away: Callable[[str], Awaitable[None]] | None = None  # the human's leg: <Say>, hang up
    task: Any = None  # the caller's move into the conference, running after the join answered

    @property
    def settled(self) -> bool:
        return self.bridged or self.bridging or bool(self.outcome)


class WarmTransfers:
    """The warm transfers of one server process, by the caller's CallSid."""

    def __init__(self, limit: int = MAX_PARKED) -> None:
        self.limit = limit
        self._calls: dict[str, Parked] = {}

    def park(self, call_sid: str, caller: str, whisper: str, stream: Any,
             ring_seconds: int = 25, state: str = "") -> Parked:
        """Register a caller going on hold; raises `RuntimeError` when too many are in
        progress (the transfer then fails and the flow takes a message)."""
        if call_sid not in self._calls and len(self._calls) >= self.limit:
            raise RuntimeError(f"{self.limit} warm transfers are in progress already")
        entry = Parked(call_sid, caller, whisper, stream, ring_seconds, state)
        self._calls[call_sid] = entry
        return entry

    def get(self, call_sid: str) -> Parked | None:
        return self._calls.get(call_sid)

    def unpark(self, call_sid: str, stream: Any) -> Parked | None:
        """Forget the call's entry if it is still `stream`'s; return it."""
        entry = self._calls.get(call_sid)
        if entry is not None and entry.stream is stream:
            del self._calls[call_sid]
            return entry
        return None

    def ringing(self) -> list[Parked]:
        """The transfers whose human is still being rung (or hears the whisper): no outcome
        yet and no bridge under way."""
        return [entry for entry in self._calls.values() if not entry.settled]

    def __len__(self) -> int:
        return len(self._calls)
