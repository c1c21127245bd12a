"""`PlaybackBuffer`: Twilio's side of playback, as a pure model with no clock and no I/O.

Twilio queues the audio and marks we send and plays the audio in real time; a mark is
echoed when everything queued before it has been played. `clear` drops the queued audio
and echoes every pending mark at once. The simulated caller advances this buffer by the
time that passed; tests advance it by hand.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from engine.audio_format import SAMPLE_RATE


@dataclass
class Played:
    """What one `advance` played: the audio heard and the marks reached, in order; `at[i]`
    is how many bytes of `audio` had played when `marks[i]` was reached."""

    audio: bytes = b""
    marks: list[str] = field(default_factory=list)
    at: list[int] = field(default_factory=list)


class PlaybackBuffer:
    def __init__(self) -> None:
        self._queue: deque[bytes | str] = deque()  # bytes: audio; str: a mark name
        self._offset = 0  # bytes of the head audio chunk already played
        self.heard = bytearray()  # every byte played so far

    def push_audio(self, ulaw: bytes) -> None:
        if ulaw:
            self._queue.append(bytes(ulaw))

    def push_mark(self, name: str) -> list[str]:
        """Queue a mark; if nothing is playing it is reached at once (returned)."""
        self._queue.append(name)
        return self.advance_bytes(0).marks

    def advance_bytes(self, budget: int) -> Played:
        """Play up to `budget` bytes (one byte = one sample at 8 kHz)."""
        played = Played()
        chunks: list[bytes] = []
        done = 0
        while self._queue:
            head = self._queue[0]
            if isinstance(head, str):
                played.marks.append(head)
                played.at.append(done)
                self._queue.popleft()
                continue
            if budget <= 0:
                break
            take = min(budget, len(head) - self._offset)
            chunks.append(head[self._offset : self._offset + take])
            budget -= take
            done += take
            self._offset += take
            if self._offset == len(head):
                self._queue.popleft()
                self._offset = 0
        played.audio = b"".join(chunks)
        self.heard += played.audio
        return played

    def advance(self, seconds: float) -> Played:
        """Play what `seconds` of real time allow."""
        return self.advance_bytes(round(seconds * SAMPLE_RATE))

    def clear(self) -> list[str]:
        """Drop every queued byte; return the pending marks (echoed at once by Twilio)."""
        marks = [item for item in self._queue if isinstance(item, str)]
        self._queue.clear()
        self._offset = 0
        return marks

    @property
    def queued_bytes(self) -> int:
        audio = sum(len(item) for item in self._queue if isinstance(item, bytes))
        return audio - self._offset

    @property
    def pending_marks(self) -> list[str]:
        return [item for item in self._queue if isinstance(item, str)]

    @property
    def idle(self) -> bool:
        return not self._queue
