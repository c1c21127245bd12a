"""`StreamSession`: the protocol order of one Media Stream, tracked without any I/O.

Twilio sends `connected`, then one `start`, then `media`/`mark`/`dtmf`, then `stop`. The
session rejects what breaks that order (`ProtocolError`), checks every message carries the
stream's sid, and records the marks we sent in the call's one `PlaybackLedger` (the same
record the call reads what was heard from), so an echo we never asked for is flagged. The
bridge feeds it each parsed message and each mark/clear it sends; it decides what to do
with errors (usually: log with the call id and close the socket).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum

from adapters.twilio.messages import (
    Connected,
    Dtmf,
    InboundMessage,
    Mark,
    Media,
    ProtocolError,
    Start,
    Stop,
)
from engine.playback import PlaybackLedger


class Phase(Enum):
    CONNECTING = "connecting"  # socket open, no `start` yet
    STREAMING = "streaming"  # `start` received
    STOPPED = "stopped"  # `stop` received; nothing may follow


# Python 3.11 reads an enum member off its class through a descriptor (~6x a plain
# attribute): the per-frame check compares with this module constant instead.
_STREAMING = Phase.STREAMING


@dataclass(frozen=True)
class Observation:
    """What the session made of an accepted message. `note` flags a tolerated oddity
    (an unknown or out-of-order mark echo); `mark_pending_before` lists the marks that
    were still waiting ahead of an out-of-order echo."""

    message: InboundMessage
    note: str = ""
    mark_pending_before: tuple[str, ...] = ()
    rewound: bool = False  # the echo of a mark a rewind dropped: it did not play

    @property
    def flagged(self) -> bool:
        return bool(self.note)


class StreamSession:
    def __init__(self, ledger: PlaybackLedger | None = None) -> None:
        self.phase = Phase.CONNECTING
        self.stream_sid = ""
        self.call_sid = ""
        self.account_sid = ""
        self.custom_parameters: Mapping[str, str] = {}
        self.media_frames = 0
        self.media_bytes = 0
        self._connected = False
        self.ledger = ledger or PlaybackLedger()  # the call's record of speech and marks

    # -- what Twilio sends -------------------------------------------------------------------
    def observe(self, message: InboundMessage) -> Observation:
        """Accept the next message from Twilio or raise `ProtocolError` if it is out of order."""
        if self.phase is Phase.STOPPED:
            raise ProtocolError(f"'{message.event}' after 'stop'")
        if isinstance(message, Connected):
            if self._connected or self.phase is not Phase.CONNECTING:
                raise ProtocolError("'connected' sent twice or after 'start'")
            self._connected = True
            return Observation(message)
        if isinstance(message, Start):
            if self.phase is not Phase.CONNECTING:
                raise ProtocolError("a second 'start' on the same stream")
            self.phase = Phase.STREAMING
            self.stream_sid = message.stream_sid
            self.call_sid = message.call_sid
            self.account_sid = message.account_sid
            self.custom_parameters = dict(message.custom_parameters)
            return Observation(message)
        if self.phase is Phase.CONNECTING:
            raise ProtocolError(f"'{message.event}' before 'start'")
        if message.stream_sid != self.stream_sid:
            raise ProtocolError(f"'{message.event}' for another stream")
        if isinstance(message, Media):
            self.media_frames += 1
            self.media_bytes += len(message.payload)
        elif isinstance(message, Mark):
            return self._mark_echoed(message)
        elif isinstance(message, Stop):
            self.phase = Phase.STOPPED
        elif not isinstance(message, Dtmf):  # pragma: no cover - the union is exhaustive
            raise ProtocolError(f"unexpected message {message!r:.60}")
        return Observation(message)

    def media_in_order(self, stream_sid: str, size: int) -> bool:
        """`observe` for a valid media message of `size` bytes, without building anything
        (50 a second per call): counts it and says True when `observe` would accept it;
        False (nothing counted) when `observe` would raise."""
        if self.phase is not _STREAMING or stream_sid != self.stream_sid:
            return False
        self.media_frames += 1
        self.media_bytes += size
        return True

    def _mark_echoed(self, message: Mark) -> Observation:
        if self.ledger.echo_rewound(message.name):
            return Observation(message, rewound=True)
        skipped = self.ledger.mark_echoed(message.name)
        if skipped is None:
            return Observation(message, f"mark {message.name!r:.60} was never sent")
        if skipped:
            return Observation(
                message,
                f"mark {message.name!r:.60} echoed before {len(skipped)} earlier mark(s)",
                skipped,
            )
        return Observation(message)

    # -- what we send ------------------------------------------------------------------------
    def mark_sent(self, name: str) -> None:
        """Record a mark we sent; Twilio will echo it once playback reaches it."""
        self._require_streaming("mark")
        self.ledger.mark_sent(name)

    def clear_sent(self) -> tuple[str, ...]:
        """Record a clear; Twilio will echo every pending mark. Returns them, oldest first."""
        self._require_streaming("clear")
        return self.ledger.marks_cleared()

    def rewind_sent(self) -> tuple[str, ...]:
        """Record a clear whose audio will be re-sent: the pending marks' echoes are void."""
        self._require_streaming("clear")
        return self.ledger.marks_rewound()

    def _require_streaming(self, what: str) -> None:
        if self.phase is not Phase.STREAMING:
            raise ProtocolError(f"cannot send '{what}' while the stream is {self.phase.value}")

    @property
    def pending_marks(self) -> tuple[str, ...]:
        return self.ledger.pending_marks

    @property
    def started(self) -> bool:
        return self.phase is not Phase.CONNECTING

    @property
    def stopped(self) -> bool:
        return self.phase is Phase.STOPPED
