"""`BargeInGate`: the caller cuts in — the agent's audio pauses at once, and the interruption
is confirmed (then the flow's barge-in runs: `clear`, the reply stops) or it was a cough, a
"mm-hm" or line noise (then the paused sentence goes on from the very frame the caller did
not hear yet, nothing cleared, the history as it was).

Between the STT session and the call, on the data plane: on a voice onset while agent
speech is queued or playing, and the state is `interruptible`, `pause()` the outbound audio
(no new frame leaves; Twilio plays out the little it buffered). `caller.speech_started`
reaches the state machine only once the speech lasts `min_speech_ms` (with
`words_required: 0`, or `long_speech_ms` with it); otherwise the gate waits for the
transcript: a backchannel or fewer words than required is a false interruption — the
utterance is dropped and the audio resumes (so is a transcript below
`stt.min_confidence`, which the flow would not understand either: whisper hears words in
a hum); real words go to the machine as `caller.utterance`. A voice too short to be speech,
or no confirmation `resume_after_ms` after the caller's last sound, resumes too. While the
state is not interruptible, speech onsets over the agent never reach the machine.
Touches only the call's playback ledger (read), its outbound audio (pause/resume) and
the loop's timers; imports flows/ and engine/turns.

Clear before the words: once a paused onset has lasted `min_speech_ms` it sounds like
speech, so `rewind()` sends Twilio's `clear` at once (nothing more of the agent plays) and
keeps the sentence the caller had not heard to its end queued, paused. Confirmed, the flow's
barge-in cuts it (the history keeps what the marks say was heard); not confirmed (a "mm-hm",
noise), `resume()` replays that sentence from its start and the history is untouched.

"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from typing import Any, Protocol

from engine.turns.current import current_policy
from states.guards import clear_words

log = logging.getLogger("dialflow.turns")
BACKCHANNELS = frozenset((
    "mm", "mhm", "mmhm", "mm-hm", "mm-hmm", "hmm", "uh-huh", "uh", "huh", "um", "ah", "oh",
    "okay", "ok", "yeah", "right", "alright", "got", "it", "i", "see"))  # not "yes": an answer
_WORD = re.compile(r"[a-z][a-z'-]*")


class Pausable(Protocol):
    def pause(self) -> None: ...
    def resume(self) -> None: ...
    def rewind(self) -> None: ...


_HUMMED = re.compile(r"[mhu-]+")  # whisper writes a hum many ways: "MMMHM", "mhmm", "uhhuh"


def is_backchannel(text: str) -> bool:
    """Only listening noises ("mm-hm", "uh-huh", "okay", "I see"), or no words at all."""
    return all(word.strip("-") in BACKCHANNELS or _HUMMED.fullmatch(word)
               for word in _WORD.findall(text.lower()))


def words_in(text: str) -> int:
    return len(_WORD.findall(text.lower()))


class BargeInGate:
    """One call's barge-in. `admit(event, data)`: may the event go on to the machine?"""

    def __init__(self, call: Any, audio: Pausable, clock: Callable[[], float] | None = None):
        self.call = call
        self.audio = audio
        self.paused = False
        self.cleared = False  # this pause sent a clear (rewind): a resume replays
        self.log: list[tuple[float, str]] = []  # (loop time, pause|resume|confirm|drop ...)
        self._timer: asyncio.TimerHandle | None = None
        self._clock = clock

    def _now(self) -> float:
        return self._clock() if self._clock else asyncio.get_running_loop().time()

    def _note(self, what: str) -> None:
        self.log.append((self._now(), what))
        log.debug("call %s: barge-in %s", getattr(self.call, "call_id", "-"), what)

    @property
    def agent_speaking(self) -> bool:
        return bool(self.call.playback.playing)

    # -- from the STT session -----------------------------------------------------------
    def voice(self, kind: str) -> None:
        """"onset": the first voiced window; "gone": it was too short to be speech."""
        if kind == "onset":
            if not self.paused and self.agent_speaking and current_policy(self.call).interruptible:
                self.paused = True
                self.audio.pause()
                self._note("pause")
                self._arm()
        elif kind == "gone" and self.paused:
            self._resume("too short to be speech")

    def admit(self, event: str, data: dict[str, Any]) -> bool:
        if event == "caller.speech_started":
            return self._speech(data)
        if event == "caller.utterance" and (self.paused or self._over_agent()):
            clear = clear_words(data, self.call.flow.settings.min_confidence)
            return self._utterance(str(data.get("text") or "") if clear else "")
        return True

    def _over_agent(self) -> bool:
        """Agent speech is playing and this state wants words to interrupt it (a "mm-hm"
        whose transcript comes after the pause already resumed is still no turn)."""
        return self.agent_speaking and current_policy(self.call).words_required > 0

    def _speech(self, data: dict[str, Any]) -> bool:
        policy = current_policy(self.call)
        if not self.paused:
            return policy.interruptible or not self.agent_speaking
        self._arm()  # the caller is still making sound: the resume waits from now
        duration = float(data.get("duration_ms") or 0)
        if duration < policy.min_speech_ms:
            return False
        if policy.words_required == 0 or duration >= policy.long_speech_ms:
            self._confirm("speech long enough")
            return True
        if not self.cleared:  # sounds like speech: clear now, confirm (or resume) later
            self.cleared = True
            self.audio.rewind()
            self._note("clear")
        return False

    def _utterance(self, text: str) -> bool:
        policy = current_policy(self.call)
        if self._not_words(text, policy.words_required):
            self._resume(f"not words: {text!r:.40}")
            return False
        if self.paused:
            self._confirm("words")
        return True

    @staticmethod
    def _not_words(text: str, required: int) -> bool:
        return is_backchannel(text) or words_in(text) < required

    # -- outcomes -----------------------------------------------------------------------
    def _confirm(self, why: str) -> None:
        self._disarm()
        self.paused = self.cleared = False  # the flow's stop_speaking clears the audio
        self._note(f"confirm ({why})")

    def _resume(self, why: str) -> None:
        self._disarm()
        if self.paused:
            self.paused = False
            self.audio.resume()
            self._note(f"resume{' after clear' if self.cleared else ''} ({why})")
            self.cleared = False

    def _arm(self) -> None:
        self._disarm()
        seconds = current_policy(self.call).resume_after_ms / 1000
        self._timer = asyncio.get_running_loop().call_later(seconds, self._resume, "no words")

    def _disarm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def close(self) -> None:
        self._disarm()
