"""A call as `dialflow check` sees it: an abstract configuration and the stimuli around it.

`Config` is everything that decides what can happen next: the state, the counters (capped at
their max), whether the state's timer is armed, what the engine waits for (speech queued but
not heard, a reply, a tool, a transfer, a clear acknowledgement) and what has broken for good
(the voice, the ears, a transfer). `Stimulus` is one thing the outside world (or the call's
own tasks) can do: an event with an abstract outcome (understood or not, long enough or not,
which key, which tool). Plain data; the rules that connect them live in `step.py`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

IDLE, PENDING, STREAMING = 0, 1, 2  # the reply: none, asked but not started, speaking

# How a stimulus comes about; only RELIABLE ones are sure to happen if the call waits.
CALLER = "caller"  # the caller's voice or keys (they may stay silent)
HANGUP = "hangup"  # the caller hangs up
PROVIDER = "provider"  # a provider fails for good
OUTCOME = "outcome"  # a reply, tool or transfer reports back (it may hang instead)
MARK = "mark"  # a playback report (it may be lost)
RELIABLE = "reliable"  # the state's timer, a clear acknowledgement, a dead voice's error
WATCHDOG = "watchdog"  # the call-level limit
INTERNAL = "internal"  # no event: the reply finished streaming


class Config(NamedTuple):
    """Immutable and hashable; a NamedTuple because exploration copies millions of them."""

    state: str
    counters: tuple[int, ...] = ()
    timer: bool = False
    playing: bool = False
    reply: int = IDLE
    tool: bool = False
    transfer: bool = False
    cleared: bool = False
    voice_dead: bool = False
    tts_pending: bool = False
    stt_dead: bool = False
    transfer_failed: bool = False
    limit: int = 0  # 0: not reached, 1: call.time_limit posted
    started: bool = True  # False: the initial state's call.started handlers have not run
    amd: bool = False  # an outbound call: Twilio's call.answered_by is still to come
    vars: tuple[Any, ...] = ()  # values of the variables set only to literals
    collecting: int = 0  # collect_digits is gathering keys (1; 2: with retries left)
    warm: bool = False  # the transfer in progress is a warm one (Twilio's <Dial> reports)

    def but(self, **changes: Any) -> Config:
        return self._replace(**changes)


@dataclass(frozen=True, slots=True)
class Stimulus:
    """`event` with the outcome its guards see; `kind` says how sure it is to come."""

    event: str
    kind: str
    understood: bool = True
    long: bool = True
    digit: str = ""
    tool: str = ""
    answer: str = ""  # call.answered_by: human, machine, fax or unknown
    opaque: frozenset[str] = frozenset()  # the clock/variable guards that hold (by key)
    clock: str = ""  # call.started: a moment that makes exactly those clock guards hold
    guessed: bool = False  # a clock/variable guard outcome assumed, not known

    def label(self) -> str:
        text = self._label()
        return f"{text} [{', '.join(sorted(self.opaque))}]" if self.opaque else text

    def _label(self) -> str:
        if self.event == "caller.utterance":
            return f"{self.event} ({'understood' if self.understood else 'not understood'})"
        if self.event == "caller.speech_started":
            return f"{self.event} ({'long' if self.long else 'short'})"
        if self.digit:
            return f"{self.event} {self.digit}"
        if self.tool:
            return f"{self.event} {self.tool}"
        if self.answer:
            return f"{self.event} {self.answer}"
        return self.event


@dataclass(frozen=True)
class Move:
    """One stimulus applied to a configuration: where it leads and what it did."""

    stimulus: Stimulus
    after: Config
    handled: bool
    lines: tuple[int, ...] = ()  # the transitions taken (one, or none when unhandled)
    effects: tuple[str, ...] = ()  # say <prompt>, transfer, take_message, hang_up, …
    spawned: tuple[str, ...] = ()  # reply, tool, transfer started by this move
    armed: bool = False  # the timer was (re)armed by this move
    dest: str | None = None
    transfer_lines: tuple[int, ...] = field(default=())  # lines of steps that transferred
    tool_name: str = ""  # the tool a flow's own `call_tool` started (run_tool: the brain's)
