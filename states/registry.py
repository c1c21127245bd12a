"""The registry of behaviours and guards that flows.yaml may name, with their argument kinds.

Only names registered here can appear in a flow file: flows.yaml never names Python code.
Importing this module imports every behaviour module so the registry is complete.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.effect import Effect
    from flows.model import Flow


class ArgKind(enum.Enum):
    """What a behaviour's or guard's argument must be."""

    NONE = "nothing"
    PROMPT = "a prompt name from prompts:"
    COUNTER = "a counter name from counters:"
    TEXT = "a text"
    OPTIONAL_TEXT = "a text, or nothing"
    DIGIT = "a key: 0-9, * or #"
    VAR = "a variable name from vars:"
    VAR_VALUES = "a mapping of variables from vars: to values or templates"
    VAR_COMPARE = "a mapping of one variable from vars: to a value"
    DAYS = "a day (mon … sun) or a list of days"
    TIME_RANGE = 'a time range "HH:MM-HH:MM" in the business timezone'
    BUSINESS = "nothing (reads settings.business)"
    DIGIT_COLLECTION = "{count: 6} or {finish: \"#\"}, with optional timeout and retries"
    TOOL_CALL = "{name: tool, args: {field: value or template}}"
    FILLER = "{say: prompt, after: 2s, every: 8s}"


@dataclass(frozen=True)
class StepContext:
    """What a behaviour or guard may read: the flow, the call's counters, variables and
    clock, what the caller last heard, and the event."""

    flow: Flow
    state: str
    event: str
    data: Mapping[str, Any]
    counters: Mapping[str, int]
    vars: Mapping[str, Any] = field(default_factory=dict)
    now: dt.datetime | None = None  # the call's wall clock (aware); None: the real clock
    caller: str = ""
    last_said: str = ""  # the last prompt or reply sentence queued for the caller
    last_reply: str = ""  # the brain's last whole reply

    def wall_clock(self) -> dt.datetime:
        return self.now or dt.datetime.now(dt.UTC)


Action = Callable[[StepContext, Any], "list[Effect]"]
Guard = Callable[[StepContext, Any], bool]


@dataclass(frozen=True)
class Registered:
    name: str
    fn: Callable[..., Any]
    arg: ArgKind
    doc: str


ACTIONS: dict[str, Registered] = {}
GUARDS: dict[str, Registered] = {}


def action(name: str, arg: ArgKind = ArgKind.NONE) -> Callable[[Action], Action]:
    """Register a behaviour under `name`."""

    def register(fn: Action) -> Action:
        ACTIONS[name] = Registered(name, fn, arg, (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return register


def guard(name: str, arg: ArgKind = ArgKind.NONE) -> Callable[[Guard], Guard]:
    """Register a guard under `name`."""

    def register(fn: Guard) -> Guard:
        GUARDS[name] = Registered(name, fn, arg, (fn.__doc__ or "").strip().splitlines()[0])
        return fn

    return register


def _load_all() -> None:
    from states import (  # noqa: F401
        conversation,
        counters,
        flow_tools,
        guards,
        keypad,
        speech,
        telephony,
        time_guards,
        timers,
        variables,
    )


_load_all()
