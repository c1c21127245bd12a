"""The signatures of behaviours and guards: the names flows.yaml may use and their arguments.

A behaviour is `(StepContext, arg) -> list[Effect]`, a guard `(StepContext, arg) -> bool`;
each declares its name and `ArgKind` with `@action`/`@guard` in its own module under
`states/` (or in a team's package, through the `dialflow.behaviours` entry point group), and
lands in `ACTIONS`/`GUARDS` here. Only registered names can appear in a flow file: flows.yaml
never names Python code. Part of the flow language: it imports nothing of ours. The
behaviours themselves are registered by importing their modules, which `behaviours()` and
`guards()` do on first use, by name (the built-in package `states` and each entry point),
like any plug-in, so the check and the engine see one complete table.
"""

from __future__ import annotations

import datetime as dt
import enum
import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flows.model import Flow

BUILTIN_BEHAVIOURS = "states"  # the package whose import registers the built-in behaviours


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
    ANSWER = "who answered: human, machine, fax or unknown (or a list of them)"
    DIGIT_COLLECTION = "{count: 6} or {finish: \"#\"}, with optional timeout and retries"
    TOOL_CALL = "{name: tool, args: {field: value or template}}"
    FILLER = "{say: prompt, after: 2s, every: 8s | hold_music: true}"
    WARM_TRANSFER = "{whisper: prompt, ring: 25s}"


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


Action = Callable[[StepContext, Any], list[Any]]  # the effects (engine.effect.Effect)
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
    """Register a behaviour under `name` (the first line of its docstring describes it)."""

    def register(fn: Action) -> Action:
        _register(ACTIONS, "behaviour", name, fn, arg)
        return fn

    return register


def guard(name: str, arg: ArgKind = ArgKind.NONE) -> Callable[[Guard], Guard]:
    """Register a guard under `name` (the first line of its docstring describes it)."""

    def register(fn: Guard) -> Guard:
        _register(GUARDS, "guard", name, fn, arg)
        return fn

    return register


def _register(table: dict[str, Registered], what: str, name: str, fn: Callable[..., Any],
              arg: ArgKind) -> None:
    old = table.get(name)
    if old is not None and _where(old.fn) != _where(fn):  # a re-import is no clash
        raise ValueError(f"{what} {name!r} of {_where(fn)} is already registered by "
                         f"{_where(old.fn)}: give it another name")
    doc = (fn.__doc__ or "").strip().splitlines()
    table[name] = Registered(name, fn, arg, doc[0] if doc else "")


def _where(fn: Callable[..., Any]) -> str:
    return f"{fn.__module__}.{getattr(fn, '__qualname__', fn)}"


def behaviours() -> Mapping[str, Registered]:
    """Every behaviour a flow may name (built-in and from entry points)."""
    _load()
    return ACTIONS


def guards() -> Mapping[str, Registered]:
    """Every guard a flow may name (built-in and from entry points)."""
    _load()
    return GUARDS


_loaded: list[bool] = []


def _load() -> None:
    if not _loaded:
        _loaded.append(True)
        importlib.import_module(BUILTIN_BEHAVIOURS)  # its import loads the entry points too
