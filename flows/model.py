"""The validated flow as typed, immutable data: states, transitions, timers, prompts, settings.

Built by `flows/loader.py` from `flows.yaml`; read by the engine, the diagram renderer and
the linter. Nothing here does I/O or knows about the `transitions` library.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flows.sections import LlmSettings, PrivacySettings, SttSettings, TtsSettings
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
    """`settings:` parsed once at load: one typed section per owner (see flows/sections.py).

    `business` and `knowledge` are the validated mappings their packages build their own
    objects from. `raw` is the whole validated section as written, for code that compares
    or archives it (a live reload, `dialflow check`); read a typed field instead.
    """

    min_speech_ms: int = 300  # barge_in.min_speech_ms
    min_confidence: float = 0.5  # stt.min_confidence
    escalation_number: str = ""
    hold_music: str = ""  # the WAV a warm transfer's caller hears ('' = the default chime)
    system_prompt: str = ""
    llm: LlmSettings = field(default_factory=LlmSettings)
    raw: dict[str, Any] = field(default_factory=dict)
    limits: Limits = field(default_factory=Limits)
    stt: SttSettings = field(default_factory=SttSettings)
    tts: TtsSettings = field(default_factory=TtsSettings)
    privacy: PrivacySettings = field(default_factory=PrivacySettings)
    business: Mapping[str, Any] = field(default_factory=dict)
    knowledge: Mapping[str, Any] = field(default_factory=dict)

    turn: TurnPolicy = field(default_factory=TurnPolicy)  # settings.turn + barge_in

    def __post_init__(self) -> None:
        if isinstance(self.llm, Mapping):  # `Settings(llm={...})`, as tests write it
            object.__setattr__(self, "llm", LlmSettings.from_mapping(self.llm))


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
