"""Effects: what a state's behaviour asks the outside world to do, as typed data.

Behaviours in `states/` return these; the machine's callbacks only record them, and the
effect runner (`engine/runner.py`) carries them out after the event has run to completion.
Control effects (counters, timers) are applied by the call at once, because later guards of
the same event may read them. This module imports nothing from the project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Effect:
    """Base class. `kind` is the short name used in traces and event-script expectations."""

    kind = "effect"

    def describe(self) -> str:
        return self.kind


@dataclass(frozen=True)
class Say(Effect):
    """Speak a prompt from flows.yaml."""

    prompt: str
    text: str
    kind = "say"

    def describe(self) -> str:
        return f"say {self.prompt}"


@dataclass(frozen=True)
class Repeat(Say):
    """Say again what the caller last heard (`repeat_last`)."""

    kind = "repeat_last"

    def describe(self) -> str:
        return "repeat_last"


@dataclass(frozen=True)
class Filler(Effect):
    """Say `text` after `after` seconds, then every `every` seconds (None: once), while the
    call stays in the state that asked; a stop_speaking (barge-in) ends it."""

    prompt: str
    text: str
    after: float
    every: float | None = None
    kind = "filler"

    def describe(self) -> str:
        return f"filler {self.prompt}"


@dataclass(frozen=True)
class Respond(Effect):
    """Ask the brain for the next reply (text streams to speech; may end in a tool call)."""

    kind = "respond"


@dataclass(frozen=True)
class RunTool(Effect):
    """Run the tool the brain asked for."""

    name: str
    args: dict[str, Any] = field(default_factory=dict, hash=False)
    call_id: str = ""
    from_flow: bool = False  # `call_tool` in flows.yaml: the brain is not told
    kind = "run_tool"

    def describe(self) -> str:
        return f"run_tool {self.name}"


@dataclass(frozen=True)
class StopSpeaking(Effect):
    """Cancel speech in progress and clear what the telephony side has buffered."""

    kind = "stop_speaking"


@dataclass(frozen=True)
class Transfer(Effect):
    """Hand the call to a human at `number`."""

    number: str
    kind = "transfer"

    def describe(self) -> str:
        return "transfer"


@dataclass(frozen=True)
class TakeMessage(Effect):
    """Create a ticket so a human calls back."""

    reason: str
    kind = "take_message"


@dataclass(frozen=True)
class HangUp(Effect):
    """End the phone call."""

    kind = "hang_up"


@dataclass(frozen=True)
class SetCounter(Effect):
    """Control effect: set a per-call counter."""

    name: str
    value: int
    kind = "counter"

    def describe(self) -> str:
        return f"{self.name}={self.value}"


@dataclass(frozen=True)
class SetVar(Effect):
    """Control effect: set a call variable declared under `vars:`."""

    name: str
    value: Any = field(default=None, hash=False)
    kind = "set"

    def describe(self) -> str:
        return f"set {self.name}"  # not the value: it may be a caller's name or number


@dataclass(frozen=True)
class CollectDigits(Effect):
    """Control effect: gather keypad digits until `count` or the `finish` key, then post
    dtmf.collected; `timeout` between keys (and before the first) starts over up to
    `retries` times (dtmf.retry), then dtmf.timeout."""

    count: int | None = None
    finish: str | None = None
    timeout: float = 5.0
    retries: int = 0
    kind = "collect_digits"


@dataclass(frozen=True)
class ArmTimer(Effect):
    """Control effect: (re)arm the current state's timer."""

    kind = "arm_timer"


@dataclass(frozen=True)
class StopTimer(Effect):
    """Control effect: stop the current state's timer."""

    kind = "stop_timer"


CONTROL_EFFECTS = (SetCounter, SetVar, CollectDigits, ArmTimer, StopTimer)
