"""Parse the behaviours (`enter`, `exit`, `do`) and guards (`if`, `unless`) of flows.yaml.

A step is a registered name, alone or with one argument: `respond`, `{say: greeting}`,
`{count: reprompts}`. Names are looked up in `states/registry.py` only; a dotted path or any
other name is an error, never an import.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from flows.errors import did_you_mean
from flows.model import GuardRef, Step
from flows.yaml_lines import YList, YMap
from states.registry import ACTIONS, GUARDS, ArgKind, Registered

ErrorSink = Callable[[int, str, str], None]
_DIGITS = set("0123456789*#")


class Names(Protocol):
    states: list[str]
    prompts: dict[str, str]
    counters: dict[str, int]


def parse_steps(raw: Any, line: int, names: Names, error: ErrorSink) -> tuple[Step, ...]:
    """`enter:`/`exit:`/`do:` as a tuple of `Step`."""
    out = []
    for item, item_line in _items(raw, line):
        parsed = _named(item, item_line, "action", ACTIONS, names, error)
        if parsed:
            out.append(Step(parsed[0], parsed[1], item_line))
    return tuple(out)


def parse_guards(raw: Any, line: int, negate: bool, names: Names,
                 error: ErrorSink) -> tuple[GuardRef, ...]:
    """`if:`/`unless:` as a tuple of `GuardRef`; all must hold."""
    out = []
    for item, item_line in _items(raw, line):
        parsed = _named(item, item_line, "guard", GUARDS, names, error)
        if parsed:
            out.append(GuardRef(parsed[0], parsed[1], negate, item_line))
    return tuple(out)


def _items(raw: Any, line: int) -> list[tuple[Any, int]]:
    if raw is None:
        return []
    if isinstance(raw, YList):
        return [(item, raw.line_of(i)) for i, item in enumerate(raw)]
    return [(raw, line)]


def _named(item: Any, line: int, what: str, registry: dict[str, Registered], names: Names,
           error: ErrorSink) -> tuple[str, Any] | None:
    if isinstance(item, str):
        name, arg = item, None
    elif isinstance(item, YMap) and len(item) == 1:
        name, arg = next(iter(item.items()))
    else:
        error(line, f"a {what} must be a name or `{{name: argument}}`, not {item!r}",
              "write e.g. `respond` or `{say: greeting}`")
        return None
    if name not in registry:
        hint = did_you_mean(name, registry)
        if "." in name:
            hint = f"{what}s are names from states/, never import paths; {hint}"
        error(line, f"unknown {what} '{name}'", hint)
        return None
    problem = _check_arg(registry[name], arg, names)
    if problem:
        error(line, f"{what} '{name}': {problem[0]}", problem[1])
        return None
    return name, arg


def _check_arg(spec: Registered, arg: Any, names: Names) -> tuple[str, str] | None:
    kind = spec.arg
    if kind is ArgKind.NONE:
        return None if arg is None else ("takes no argument", f"write just `{spec.name}`")
    if kind is ArgKind.OPTIONAL_TEXT:
        return None if arg is None or isinstance(arg, str) else ("takes a text", "quote it")
    if arg is None:
        return "needs an argument", f"write `{{{spec.name}: …}}` with {kind.value}"
    if kind is ArgKind.PROMPT and arg not in names.prompts:
        return (f"missing prompt '{arg}'",
                f"add `{arg}: \"…\"` under prompts:, or "
                + did_you_mean(str(arg), names.prompts))
    if kind is ArgKind.COUNTER and arg not in names.counters:
        return (f"unknown counter '{arg}'",
                f"add `{arg}: {{max: 2}}` under counters:, or "
                + did_you_mean(str(arg), names.counters))
    if kind is ArgKind.DIGIT and str(arg) not in _DIGITS:
        return f"'{arg}' is not a phone key", "write a quoted key such as \"0\" or \"#\""
    if kind is ArgKind.TEXT and not isinstance(arg, str):
        return "takes a text", "quote it"
    return None
