"""`PlaybackLedger`: the one record of a call's speech — queued, on the line, heard, cut off.

Speech is registered when it is queued; a reply that is still streaming holds the ledger
open. `agent.playback_done` reaches the state machine only when the last queued speech has
been heard and nothing holds it open; a done event for speech that was cleared (barge-in) is
stale and dropped. The heard texts are what the conversation history may keep.

The telephony side keeps its marks here too (`mark_sent`, `mark_echoed`, `marks_cleared`,
and `marks_rewound` for a clear whose audio may be replayed — its echoes mean nothing):
each speech id is sent as a Twilio mark after its audio, and the echo says it was heard.
There is one ledger per call: the media-stream session (`adapters/twilio/session.py`) owns
it and the bridge hands it to the call as `Ports.playback`; a call without telephony (event
scripts, replays) gets a fresh one. Pure data: no clock, no I/O, imports nothing of ours.
"""

from __future__ import annotations

import itertools
from collections import Counter
from dataclasses import dataclass


@dataclass
class Speech:
    speech_id: str
    text: str
    heard: bool = False


class PlaybackLedger:
    def __init__(self) -> None:
        self._ids = itertools.count(1)
        self._pending: dict[str, Speech] = {}
        self._holds: set[str] = set()
        self.heard: list[Speech] = []
        self._marks: list[str] = []  # marks sent on the line, not yet echoed, oldest first
        self._rewound: Counter[str] = Counter()  # echoes a rewind made meaningless

    def begin(self, text: str) -> str:
        """Register speech about to be queued; return its id."""
        speech = Speech(f"s{next(self._ids)}", text)
        self._pending[speech.speech_id] = speech
        return speech.speech_id

    def hold(self, key: str) -> None:
        """Keep playback open while `key` (a streaming reply) may add more speech."""
        self._holds.add(key)

    def release(self, key: str) -> bool:
        """The holder is done adding speech; True when nothing is left to play."""
        self._holds.discard(key)
        return self.idle

    def done(self, speech_id: str | None) -> str:
        """A playback-done report: 'idle' (all heard), 'playing' (more to come) or 'stale'.

        Without an id, everything queued so far counts as heard (the fakes use this)."""
        if speech_id is None:
            if not self._pending:
                return "stale"
            for speech in list(self._pending.values()):
                self._mark_heard(speech)
        elif speech_id in self._pending:
            self._mark_heard(self._pending[speech_id])
        else:
            return "stale"
        return "idle" if self.idle else "playing"

    def _mark_heard(self, speech: Speech) -> None:
        speech.heard = True
        del self._pending[speech.speech_id]
        self.heard.append(speech)

    def clear(self) -> list[Speech]:
        """Barge-in: forget what was queued but not heard; return it."""
        dropped = list(self._pending.values())
        self._pending.clear()
        self._holds.clear()
        return dropped

    @property
    def idle(self) -> bool:
        return not self._pending and not self._holds

    @property
    def playing(self) -> bool:
        return bool(self._pending)

    # -- the telephony side: marks sent after each speech's audio, echoed once played ------
    def mark_sent(self, name: str) -> None:
        """A mark went out on the line; it will be echoed once playback reaches it."""
        if name in self._marks:
            raise ValueError(f"mark {name!r} is already pending; mark names must be unique")
        self._marks.append(name)

    def mark_echoed(self, name: str) -> tuple[str, ...] | None:
        """An echo came back: None when no such mark is out, else the marks still out ahead
        of it (empty in order). The echoed mark is no longer out."""
        if name not in self._marks:
            return None
        index = self._marks.index(name)
        skipped = tuple(self._marks[:index])
        del self._marks[index]
        return skipped

    def marks_cleared(self) -> tuple[str, ...]:
        """A clear went out: every mark still out will be echoed at once (oldest first)."""
        return tuple(self._marks)

    def marks_rewound(self) -> tuple[str, ...]:
        """A clear went out whose audio will be re-sent (a barge-in not confirmed yet): the
        marks still out come back at once without having played, so their echoes are
        dropped (`echo_rewound`), and the same names may be sent again after the replay."""
        rewound = tuple(self._marks)
        self._rewound.update(rewound)
        self._marks.clear()
        return rewound

    def echo_rewound(self, name: str) -> bool:
        """True (and consumed) when this echo is one a rewind made meaningless."""
        if self._rewound[name] <= 0:
            return False
        self._rewound[name] -= 1
        if not self._rewound[name]:
            del self._rewound[name]
        return True

    @property
    def pending_marks(self) -> tuple[str, ...]:
        return tuple(self._marks)
