"""`AudioLedger`: the caller audio on its way to Deepgram, so a dropped socket loses none.

Frames wait in `pending` until the sender puts them on the socket. Sent frames stay in the
ledger, unconfirmed, until a final result's end time (seconds of audio on that connection)
covers them; if the connection drops first they go back to the front of `pending` and are
sent again on the next one, followed by what arrived meanwhile. Both parts together are
bounded: past `max_bytes` the oldest audio is dropped (and counted). Every fed byte has a
global offset, so a time on any connection's audio clock maps back to the call's audio
(`to_global`). Pure bookkeeping: no I/O, no clock. Mu-law: one byte per sample.
"""

from __future__ import annotations

from collections import deque


class AudioLedger:
    def __init__(self, max_bytes: int, bytes_per_second: int) -> None:
        self.max_bytes = max_bytes
        self.bytes_per_second = bytes_per_second
        self.fed = 0  # bytes fed so far: the global offset of the next byte
        self.dropped = 0  # bytes dropped because the ledger was full
        self._pending: deque[tuple[int, bytes]] = deque()  # (global offset, frame)
        self._pending_bytes = 0
        self._sent: deque[tuple[int, int, bytes]] = deque()  # (stream off, global off, frame)
        self._sent_bytes = 0
        self._stream = 0  # bytes sent on the current connection
        self._origin: int | None = None  # global offset of the connection's first byte

    @property
    def pending_bytes(self) -> int:
        return self._pending_bytes

    @property
    def unconfirmed_bytes(self) -> int:
        return self._sent_bytes

    def push(self, frame: bytes) -> int:
        """Queue a frame; returns how many old bytes had to be dropped to make room."""
        self._pending.append((self.fed, frame))
        self._pending_bytes += len(frame)
        self.fed += len(frame)
        return self._trim()

    def peek(self) -> bytes | None:
        """The next frame to send, or None."""
        return self._pending[0][1] if self._pending else None

    def mark_sent(self) -> None:
        """The frame from `peek` went out on the current connection."""
        offset, frame = self._pending.popleft()
        self._pending_bytes -= len(frame)
        if self._origin is None:
            self._origin = offset
        self._sent.append((self._stream, offset, frame))
        self._sent_bytes += len(frame)
        self._stream += len(frame)

    def confirm(self, stream_seconds: float) -> None:
        """A final result covered the connection's audio up to `stream_seconds`."""
        covered = int(stream_seconds * self.bytes_per_second)
        while self._sent and self._sent[0][0] + len(self._sent[0][2]) <= covered:
            self._sent_bytes -= len(self._sent.popleft()[2])

    def start_connection(self) -> None:
        """A new connection: its audio clock starts at the next frame sent."""
        self._stream = 0
        self._origin = None

    def connection_lost(self) -> int:
        """Put the unconfirmed frames back in front of the pending ones; returns their size."""
        replay = self._sent_bytes
        for _, offset, frame in reversed(self._sent):
            self._pending.appendleft((offset, frame))
        self._pending_bytes += replay
        self._sent.clear()
        self._sent_bytes = 0
        self.start_connection()
        return replay

    def to_global(self, stream_seconds: float) -> int:
        """The global offset of `stream_seconds` on the current connection's clock.
        Approximate when audio was dropped for lack of room."""
        if self._origin is None:
            return self.fed
        return min(self.fed, self._origin + int(stream_seconds * self.bytes_per_second))

    def clear(self) -> None:
        self._pending.clear()
        self._sent.clear()
        self._pending_bytes = self._sent_bytes = 0

    def _trim(self) -> int:
        """Make room: first forget the oldest sent frames (they reached Deepgram once and
        only lose their replay), then drop the oldest unsent ones (counted in `dropped`)."""
        dropped = 0
        while self._sent and self._pending_bytes + self._sent_bytes > self.max_bytes:
            self._sent_bytes -= len(self._sent.popleft()[2])
        while self._pending_bytes > self.max_bytes:
            size = len(self._pending.popleft()[1])
            self._pending_bytes -= size
            dropped += size
        self.dropped += dropped
        return dropped
