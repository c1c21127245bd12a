"""Every event a call can receive: its name, who emits it and the fields it carries.

This is the single list `flows.yaml` is validated against (a name that is not here is an
error in the flow file) and the one posting checks: `check_event` rejects an unknown name,
a field the event does not have and a required field left out, with the list of fields, so
a wrong post is a clear error where it is made, never a silent dict. Events are plain data
(`Event`); only coarse events reach the state machine, never audio frames or LLM tokens.
Part of the flow language: imports nothing from the project.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


class EventError(ValueError):
    """An event posted with a name or fields its `EventSpec` does not declare."""


@dataclass(frozen=True)
class EventSpec:
    """What an event means, the fields it always carries and those it may carry."""

    name: str
    doc: str
    fields: tuple[str, ...] = ()  # required
    optional: tuple[str, ...] = ()
    required: frozenset[str] = field(init=False, repr=False, compare=False)
    allowed: frozenset[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "required", frozenset(self.fields))
        object.__setattr__(self, "allowed", frozenset(self.fields + self.optional))

    def problem(self, data: Mapping[str, Any]) -> str | None:
        """Why `data` is not this event's fields, or None."""
        unknown = sorted(set(data) - self.allowed)
        missing = sorted(self.required - set(data))
        if not unknown and not missing:
            return None
        what = []
        if unknown:
            what.append("has no field " + ", ".join(map(repr, unknown)))
        if missing:
            what.append("needs " + ", ".join(map(repr, missing)))
        fields = ", ".join([*self.fields, *(f"{f} (optional)" for f in self.optional)])
        return f"event {self.name!r} {' and '.join(what)}; its fields: {fields or 'none'}"


@dataclass
class Event:
    """One event queued for a call. `timer_gen` tags timer events so stale ones are dropped."""

    name: str
    data: dict[str, Any] = field(default_factory=dict)
    timer_gen: int | None = None


_SPECS = [
    EventSpec("call.started", "Twilio's stream started; the call begins (`caller`: the "
              "caller's number, when known)", (), ("caller", "call_sid")),
    EventSpec("call.hangup", "the caller hung up or the stream stopped"),
    EventSpec("call.time_limit", "the call reached settings.limits.max_call; the engine hangs "
              "up by itself limits.hangup_after later"),
    # outbound calls (engine/app/outbound): Twilio's answering-machine detection result
    EventSpec("call.answered_by", "an outbound call: who answered, per Twilio's answering-"
              "machine detection (`answered_by`: human, machine, fax or unknown; `detail`: "
              "Twilio's own AnsweredBy, e.g. machine_end_beep)", ("answered_by",), ("detail",)),
    EventSpec("caller.speech_started", "VAD heard the caller start speaking", (),
              ("duration_ms",)),
    EventSpec("caller.transcript", "an interim transcript of what the caller is saying", ("text",)),
    EventSpec("caller.utterance", "the caller's turn ended; `ended_at` (perf_counter) is when "
              "their speech ended, if the STT knows; `truncated` when a caller who never "
              "stopped was cut at turn.max_turn_ms; `gap_ms` the caller's silence since their "
              "previous utterance (audio time, if the STT knows); `rejoined` and "
              "`rejoined_confidence` the STT's hearing of the previous utterance and this one "
              "as one (soon after the previous, if the STT offers it); `joins` the earlier "
              "turn these words continue (turn.continue_ms: `text` then holds both, `own` "
              "this utterance's words when `text` is the rejoined hearing)", ("text",),
              ("confidence", "ended_at", "truncated", "gap_ms", "joins", "rejoined",
               "rejoined_confidence", "own")),
    EventSpec("caller.dtmf", "the caller pressed a key", ("digit",)),
    EventSpec("dtmf.collected", "collect_digits got its digits (the count, or the finishing "
              "key); `digits` has them without the finishing key", ("digits", "collection")),
    EventSpec("dtmf.retry", "collect_digits waited too long between keys and starts over "
              "(`attempt` of its `retries`)", ("digits", "attempt", "collection")),
    EventSpec("dtmf.timeout", "collect_digits waited too long and has no retries left; "
              "`digits` has what was typed", ("digits", "collection")),
    EventSpec("agent.reply_started", "the first sentence of a reply went to speech", ("text",)),
    EventSpec(
        "agent.playback_done",
        "the mark after the last frame came back: the caller has heard everything queued "
        "(`reply_done`: a reply finished streaming after all of it was heard)",
        (), ("speech", "reply_done"),
    ),
    EventSpec("agent.playback_cleared", "a clear was acknowledged; nothing is playing"),
    EventSpec("llm.tool_call", "the brain asked for a tool; `id` pairs its result with it",
              ("name",), ("args", "id")),
    EventSpec("tool.done", "a tool finished", ("name", "result")),
    EventSpec("tool.failed", "a tool failed or timed out", ("name", "error")),
    EventSpec("transfer.done", "the call was handed to a human"),
    EventSpec("transfer.failed", "the transfer could not be placed (`dial_status`: how "
              "Twilio reported a warm transfer's call to the human, or `bridge-failed` when "
              "the caller could not be moved to them, `shutdown` when the server stopped "
              "first)", ("error",),
              ("dial_status",)),
    # warm_transfer (states/warm_transfer.py): the human's call reports how the ringing ended;
    # the caller is on hold (music) until then
    EventSpec("transfer.answered", "warm transfer: the human picked up and hears the whisper; "
              "the caller is still on hold (stay in the state: the bridge comes next)"),
    EventSpec("transfer.completed", "warm transfer: the caller was moved into the conference "
              "with the human; the agent's part of the call is over"),
    EventSpec("transfer.busy", "warm transfer: the human's line was busy; the caller is back"),
    EventSpec("transfer.no_answer", "warm transfer: nobody answered within the ring time (or "
              "hung up during the whisper); the caller is back"),
    EventSpec("transfer.canceled", "warm transfer: the human's call was canceled; the caller "
              "is back"),
    EventSpec("stt.error", "speech-to-text failed for good", ("error",)),
    EventSpec("llm.error", "the brain failed for good", ("error",)),
    EventSpec("tts.error", "text-to-speech failed for good", ("error",)),
    EventSpec("timer.greeting", "the greeting was not heard through in time"),
    EventSpec("timer.silence", "the caller said nothing for the state's timeout"),
    EventSpec("timer.reply", "the brain took too long to start a reply"),
    EventSpec("timer.playback", "playback did not finish in time"),
    EventSpec("timer.tool", "a tool took too long"),
    EventSpec("timer.transfer", "the transfer did not connect in time"),
    EventSpec("timer.hangup", "the goodbye did not finish in time"),
]

EVENTS: dict[str, EventSpec] = {spec.name: spec for spec in _SPECS}
TIMER_EVENTS = frozenset(name for name in EVENTS if name.startswith("timer."))
CALL_STARTED = "call.started"
TIME_LIMIT = "call.time_limit"
PLAYBACK_DONE = "agent.playback_done"
ANSWERED_BY = "call.answered_by"
ANSWERS = ("human", "machine", "fax", "unknown")  # call.answered_by's `answered_by` values


def is_known(name: str) -> bool:
    """True when `name` is an event the engine can emit."""
    return name in EVENTS


def check_event(name: str, data: Mapping[str, Any]) -> None:
    """Raise `EventError` unless `name` is an event and `data` are its fields. Cheap: two
    set comparisons on the keys when all is well."""
    spec = EVENTS.get(name)
    if spec is None:
        raise EventError(f"unknown event {name!r}: the events are listed in flows/events.py")
    keys = data.keys()
    if not (keys >= spec.required and keys <= spec.allowed):
        raise EventError(spec.problem(data))
