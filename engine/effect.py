"""The base of every effect, and the two views an effect gets of the call it acts on.

A behaviour in `states/` returns effects: typed data saying what the call should do. Each
effect class lives in its behaviour's module and knows how to carry itself out, so neither
the call nor the effect runner switches on effect types:

- `Effect.carry_out(runtime)` runs after the event has run to completion, through the
  `Runtime` (the call's ports and the helpers of `engine/runner.py`), usually as a task
  owned by the state the call is in.
- `ControlEffect.apply(call)` changes the call at once (counters, variables, the timer,
  digit collection), because later guards of the same event may read it; it is never
  carried out.

`kind` is the short name traces and event-script expectations use. This module imports
only the ports.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from engine.ports import Ports, ToolOutcome


@dataclass(frozen=True)
class Effect:
    """Base class of the effects carried out after the event (speech, replies, tools, …)."""

    kind: ClassVar[str] = "effect"

    def describe(self) -> str:
        return self.kind

    def apply(self, call: CallControl) -> None:
        """Recorded now, carried out once the event has run to completion."""
        call.defer(self)

    def carry_out(self, runtime: Runtime) -> None:
        raise NotImplementedError(f"effect {type(self).__name__} does not say how it is "
                                  "carried out: give it a carry_out(runtime)")


@dataclass(frozen=True)
class ControlEffect(Effect):
    """Base class of the effects that change the call at once and are never carried out."""

    def apply(self, call: CallControl) -> None:
        raise NotImplementedError(f"control effect {type(self).__name__} has no apply(call)")


class CallControl(Protocol):
    """What a control effect may change on the call, while the event is being handled."""

    counters: MutableMapping[str, int]
    vars: MutableMapping[str, Any]
    keypad: Any  # engine.keypad.DigitCollector
    loop: asyncio.AbstractEventLoop | None

    def defer(self, effect: Effect) -> None: ...

    def arm_timer(self) -> None: ...

    def stop_timer(self) -> None: ...


class CallView(Protocol):
    """What an effect carried out may read and report on the call."""

    call_id: str
    caller: str
    state: str
    last_utterance: str
    last_joins: str  # the earlier words last_utterance continues ("" for a turn of its own)
    last_said: str
    last_reply: str
    playback: Any  # engine.playback.PlaybackLedger
    timeline: Any  # engine.latency.TurnTimeline
    vars: Mapping[str, Any]
    conversation: Sequence[tuple[str, str]]

    def post(self, event: str, /, **data: Any) -> None: ...

    def next_id(self) -> int: ...

    def busy(self) -> list[str]: ...


class Runtime(Protocol):
    """What `Effect.carry_out` gets: the call, its ports and the runner's shared helpers."""

    call: CallView
    ports: Ports
    interruptions: int  # stop_speaking count: a filler started before one ends
    speculation: Any  # engine.turns.speculation.Speculator: the reply started at a pause

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str, keep: bool = False) -> None:
        """Run `coro` as a task owned by the current state (`keep`: by the call)."""

    async def say(self, speech_id: str, text: str) -> None:
        """Speak through the speaker port; a failure becomes `tts.error`."""

    async def tool(self, name: str, args: dict[str, Any]) -> ToolOutcome:
        """Run a tool through the tools port; a raise becomes a failed outcome."""

    def failed(self, event: str, component: str, exc: Exception) -> None:
        """Log a port failure and post `event` with its error."""

