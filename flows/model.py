"""The validated flow as typed, immutable data: states, transitions, timers, prompts, settings.

Built by `flows/loader.py` from `flows.yaml`; read by the engine, the diagram renderer and
the linter. Nothing here does I/O or knows about the `transitions` library.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flows.turns import TurnPolicy


def arg_label(arg: Any) -> str:
    """`{member_id: "{event.digits}"}` as `member_id={event.digits}`, lists as `sat, sun`."""
    if isinstance(arg, dict):
        return ", ".join(f"{k}={_literal(v)}" for k, v in arg.items())
    if isinstance(arg, list):
        return ", ".join(map(str, arg))
    return str(arg)


def _literal(value: Any) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "null"}[value]
    return str(value)


@dataclass(frozen=True)
class Step:
    """One named behaviour with its optional argument, e.g. `{say: greeting}`."""

    name: str
    arg: Any = None
    line: int = 0

    def label(self) -> str:
        return self.name if self.arg is None else f"{self.name} {arg_label(self.arg)}"


@dataclass(frozen=True)
class GuardRef:
    """A named condition on a transition; `negate` comes from `unless:`."""

    name: str
    arg: Any = None
    negate: bool = False
    line: int = 0

    def label(self) -> str:
        text = self.name if self.arg is None else f"{self.name} {arg_label(self.arg)}"
        return f"not {text}" if self.negate else text


@dataclass(frozen=True)
class TransitionSpec:
    """On `event` in `source`: if every guard passes, run `actions`, then go to `dest`.

    `dest is None` means stay without leaving the state (no exit, no entry, timer untouched);
    `dest == source` re-enters the state (exit and entry run again, the timer re-arms).
    Leaving a state cancels the tasks it started, unless `keep_tasks` hands them to `dest`.
    """

    event: str
    source: str
    dest: str | None
    guards: tuple[GuardRef, ...] = ()
    actions: tuple[Step, ...] = ()
    line: int = 0
    from_any: bool = False
    keep_tasks: bool = False

    @property
    def target(self) -> str:
        return self.dest or self.source


@dataclass(frozen=True)
class Timeout:
    """A state's timer: raise `event` `after` seconds from entry unless the state was left."""

    after: float
    event: str
    line: int = 0


@dataclass(frozen=True)
class StateSpec:
    name: str
    final: bool = False
    description: str = ""
    enter: tuple[Step, ...] = ()
    exit: tuple[Step, ...] = ()
    timeout: Timeout | None = None
    line: int = 0
    ignore: tuple[str, ...] = ()  # events the state drops on purpose (`ignore:`)
    turn: tuple[tuple[str, Any], ...] = ()  # the state's own `turn:` keys (flows/turns.py)


@dataclass(frozen=True)
class Limits:
    """`settings.limits`: the call-level watchdog. At `max_call` seconds the engine posts
    `call.time_limit` for the flow to handle; `hangup_after` later it hangs up itself."""

    max_call: float | None = None
    hangup_after: float = 30.0
    line: int = 0


@dataclass(frozen=True)
class Settings:
    """Typed settings the engine reads; whole sections for other packages stay in `raw`."""

    min_speech_ms: int = 300
    min_confidence: float = 0.5
    escalation_number: str = ""
    system_prompt: str = ""
    llm: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    turn: TurnPolicy = field(default_factory=TurnPolicy)  # settings.turn + barge_in


@dataclass(frozen=True)
class Flow:
    name: str
    path: str
    initial: str
    states: dict[str, StateSpec]
    transitions: tuple[TransitionSpec, ...]
    prompts: dict[str, str]
    counters: dict[str, int]
    settings: Settings
    http_tools: tuple[dict[str, Any], ...] = ()
    vars: dict[str, Any] = field(default_factory=dict)  # `vars:` name -> starting value

    def transitions_from(self, state: str) -> list[TransitionSpec]:
        """Transitions leaving `state`, in the order they are tried."""
        return [t for t in self.transitions if t.source == state]

    def transitions_from_for(self, state: str, event: str) -> list[TransitionSpec]:
        """The transitions of `state` for `event`, in order."""
        return [t for t in self.transitions if t.source == state and t.event == event]

    def events(self) -> set[str]:
        return {t.event for t in self.transitions}
