"""The registry of behaviours and guards that flows.yaml may name, with their argument kinds.

Only names registered here can appear in a flow file: flows.yaml never names Python code.
Importing this module imports every behaviour module so the registry is complete.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.effects import Effect
    from flows.model import Flow


class ArgKind(enum.Enum):
    """What a behaviour's or guard's argument must be."""

    NONE = "nothing"
    PROMPT = "a prompt name from prompts:"
    COUNTER = "a counter name from counters:"
    TEXT = "a text"
    OPTIONAL_TEXT = "a text, or nothing"
    DIGIT = "a key: 0-9, * or #"


@dataclass(frozen=True)
class StepContext:
    """What a behaviour or guard may read: the flow, the call's counters and the event."""

    flow: Flow
    state: str
    event: str
    data: Mapping[str, Any]
    counters: Mapping[str, int]


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
    from states import conversation, counters, guards, speech, telephony, timers  # noqa: F401


_load_all()
