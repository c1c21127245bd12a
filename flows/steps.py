"""Parse the behaviours (`enter`, `exit`, `do`) and guards (`if`, `unless`) of flows.yaml.

A step is a registered name, alone or with one argument: `respond`, `{say: greeting}`,
`{count: reprompts}`. Names are looked up in the signatures of `flows/signatures.py` only;
a dotted path or any other name is an error, never an import.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from flows.durations import parse_duration
from flows.errors import did_you_mean
from flows.model import GuardRef, Step
from flows.outbound_checks import check_answer
from flows.signatures import ArgKind, Registered, behaviours, guards
from flows.templates import check_names
from flows.transfer_checks import check_warm_transfer
from flows.yaml_lines import YList, YMap

ErrorSink = Callable[[int, str, str], None]
_DIGITS = set("0123456789*#")
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RANGE = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)-([01]\d|2[0-4]):([0-5]\d)$")


class Names(Protocol):
    states: list[str]
    prompts: dict[str, str]
    counters: dict[str, int]
    vars: dict[str, Any]
    business: dict[str, Any] | None


def check_prompts(raw: Any, names: Names, error: ErrorSink) -> None:
    """Every `{name}` in a prompt must exist: settings.business keys, declared vars…"""
    if not isinstance(raw, YMap):
        return
    for key, text in raw.items():
        if isinstance(text, str):
            for problem, fix in check_names(text, names.business or {}, names.vars):
                error(raw.line_of(key), f"prompt '{key}': {problem}", fix)


def parse_steps(raw: Any, line: int, names: Names, error: ErrorSink) -> tuple[Step, ...]:
    """`enter:`/`exit:`/`do:` as a tuple of `Step`."""
    out = []
    for item, item_line in _items(raw, line):
        parsed = _named(item, item_line, "action", behaviours(), names, error)
        if parsed:
            out.append(Step(parsed[0], parsed[1], item_line))
    return tuple(out)


def parse_guards(raw: Any, line: int, negate: bool, names: Names,
                 error: ErrorSink) -> tuple[GuardRef, ...]:
    """`if:`/`unless:` as a tuple of `GuardRef`; all must hold."""
    out = []
    for item, item_line in _items(raw, line):
        parsed = _named(item, item_line, "guard", guards(), names, error)
        if parsed:
            out.append(GuardRef(parsed[0], parsed[1], negate, item_line))
    return tuple(out)


def _items(raw: Any, line: int) -> list[tuple[Any, int]]:
    if raw is None:
        return []
    if isinstance(raw, YList):
        return [(item, raw.line_of(i)) for i, item in enumerate(raw)]
    return [(raw, line)]


def _named(item: Any, line: int, what: str, registry: Mapping[str, Registered], names: Names,
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
        if arg is not None and not isinstance(arg, str):
            return "takes a text", "quote it"
        for problem, fix in check_names(arg or "", names.business or {}, names.vars,
                                        allow_event=True):
            return problem, fix  # a templated reason (take_message) names real things
        return None
    if kind is ArgKind.BUSINESS and arg is not None:
        return "takes no argument", f"write just `{spec.name}`"
    if kind is ArgKind.BUSINESS:
        return _check_time(spec, arg, names)
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
    if kind in (ArgKind.DAYS, ArgKind.TIME_RANGE):
        return _check_time(spec, arg, names)
    if kind is ArgKind.VAR:
        return _check_var(arg, names)
    if kind in (ArgKind.VAR_VALUES, ArgKind.VAR_COMPARE):
        return _check_var_map(spec, arg, names)
    if kind is ArgKind.ANSWER:
        return check_answer(arg)
    if kind is ArgKind.DIGIT_COLLECTION:
        return _check_collection(arg)
    if kind is ArgKind.TOOL_CALL:
        return _check_tool_call(arg, names)
    if kind is ArgKind.FILLER:
        return _check_filler(arg, names)
    if kind is ArgKind.WARM_TRANSFER:
        return check_warm_transfer(arg, names)
    return None


_FILLER_KEYS = ("say", "after", "every", "hold_music")


def _check_filler(arg: Any, names: Names) -> tuple[str, str] | None:
    example = "{filler: {say: one_moment, after: 2s, every: 8s}}"
    hold = isinstance(arg, dict) and arg.get("hold_music") is True
    if not isinstance(arg, dict) or ("say" not in arg and not hold):
        return ("needs a prompt to `say` (or `hold_music: true`)",
                f"write e.g. `{example}` or `{{filler: {{say: one_moment, after: 2s, "
                "hold_music: true}}`")
    unknown = [k for k in arg if k not in _FILLER_KEYS]
    if unknown:
        return f"unknown key '{unknown[0]}'", did_you_mean(str(unknown[0]), _FILLER_KEYS)
    if "hold_music" in arg and not isinstance(arg["hold_music"], bool):
        return (f"hold_music is {arg['hold_music']!r}",
                "write `hold_music: true` (the music of settings.hold_music)")
    if hold and arg.get("every") is not None:
        return ("`every` and `hold_music` both say what comes after the first words",
                "keep one: the music plays until the result, so drop `every`")
    if "say" in arg and arg["say"] not in names.prompts:
        return (f"missing prompt '{arg['say']}'", f"add `{arg['say']}: \"…\"` under prompts:, "
                "or " + did_you_mean(str(arg["say"]), names.prompts))
    for key, low, high in (("after", 0.0, 60.0), ("every", 1.0, 120.0)):
        if arg.get(key) is None:
            continue
        try:
            seconds = parse_duration(arg[key])
        except ValueError as exc:
            return str(exc), "write a duration such as 3s"
        if not low <= seconds <= high:
            return f"{key} {arg[key]} is not between {low:g} and {high:g} s", "e.g. 3s"
    return None


_COLLECT_KEYS = ("count", "finish", "timeout", "retries")


def _check_collection(arg: Any) -> tuple[str, str] | None:
    example = '{collect_digits: {count: 6, finish: "#", timeout: 5s, retries: 2}}'
    if not isinstance(arg, dict):
        return "takes a mapping", f"write e.g. `{example}`"
    unknown = [k for k in arg if k not in _COLLECT_KEYS]
    if unknown:
        return f"unknown key '{unknown[0]}'", did_you_mean(str(unknown[0]), _COLLECT_KEYS)
    count, finish = arg.get("count"), arg.get("finish")
    if count is None and finish is None:
        return "needs `count` or `finish`", f"write e.g. `{example}`"
    if count is not None and (isinstance(count, bool) or not isinstance(count, int)
                              or not 1 <= count <= 32):
        return f"count {count!r} is not 1 to 32", "write the number of digits, e.g. `count: 6`"
    if finish is not None and str(finish) not in _DIGITS:
        return f"finish {finish!r} is not a phone key", 'write a quoted key: `finish: "#"`'
    retries = arg.get("retries", 0)
    if isinstance(retries, bool) or not isinstance(retries, int) or not 0 <= retries <= 5:
        return f"retries {retries!r} is not 0 to 5", "write e.g. `retries: 2`"
    if arg.get("timeout") is not None:
        try:
            seconds = parse_duration(arg["timeout"])
        except ValueError as exc:
            return str(exc), "write a duration such as 5s"
        if not 0 < seconds <= 60:
            return f"timeout {arg['timeout']} is not between 0 and 60 s", "write e.g. 5s"
    return None


def _check_tool_call(arg: Any, names: Names) -> tuple[str, str] | None:
    example = '{call_tool: {name: check_appointment, args: {phone: "{caller}"}}}'
    if not isinstance(arg, dict) or not isinstance(arg.get("name"), str):
        return "needs a tool `name`", f"write e.g. `{example}`"
    unknown = [k for k in arg if k not in ("name", "args")]
    if unknown:
        return f"unknown key '{unknown[0]}'", "a tool call has `name` and `args` only"
    args = arg.get("args") or {}
    if not isinstance(args, dict):
        return "`args` must map argument names to values", f"write e.g. `{example}`"
    for key, value in args.items():
        if isinstance(value, str):
            for problem, fix in check_names(value, names.business or {}, names.vars):
                return f"argument '{key}': {problem}", fix
        elif value is not None and not isinstance(value, (int, float, bool)):
            return f"argument '{key}' must be a literal or a template", "quote it"
    return None


def _check_time(spec: Registered, arg: Any, names: Names) -> tuple[str, str] | None:
    business = names.business or {}
    if not business.get("timezone") or not business.get("hours"):
        return ("needs settings.business with `timezone:` and `hours:`",
                "add them, e.g. `business: {timezone: America/New_York, hours: {mon: "
                '"08:00-17:00"}}`')
    if spec.arg is ArgKind.DAYS:
        days = arg if isinstance(arg, list) else [arg]
        bad = [d for d in days if str(d).lower() not in DAYS]
        if bad or not days:
            return f"{bad[0] if bad else arg!r} is not a day", "write mon, tue … sun or a list"
    if spec.arg is ArgKind.TIME_RANGE and not (isinstance(arg, str) and _RANGE.match(arg)):
        return (f"{arg!r} is not a time range",
                'write "HH:MM-HH:MM", e.g. "12:00-13:00" (it may wrap midnight: "18:00-08:00")')
    return None


def _check_var(arg: Any, names: Names) -> tuple[str, str] | None:
    if str(arg) in names.vars:
        return None
    return (f"unknown variable '{arg}'", f"declare `{arg}: …` under vars:, or "
            + did_you_mean(str(arg), names.vars))


def _check_var_map(spec: Registered, arg: Any, names: Names) -> tuple[str, str] | None:
    if not isinstance(arg, dict) or not arg:
        return "takes a mapping of variables", f"write `{{{spec.name}: {{name: value}}}}`"
    if spec.arg is ArgKind.VAR_COMPARE and len(arg) != 1:
        return "compares one variable", f"write one `{spec.name}` per variable"
    for name, value in arg.items():
        problem = _check_var(name, names)
        if problem:
            return problem
        if value is not None and not isinstance(value, (str, int, float, bool)):
            return f"the value of '{name}' must be a literal", 'write a text, a number or true'
        if spec.arg is ArgKind.VAR_COMPARE and spec.name in ("above", "below") and (
                isinstance(value, bool) or not isinstance(value, (int, float))):
            return f"'{spec.name}' compares with a number, not {value!r}", "write a number"
        if isinstance(value, str):
            allow_event = spec.arg is ArgKind.VAR_VALUES
            for problem_, fix in check_names(value, names.business or {}, names.vars,
                                             allow_event):
                return problem_, fix
    return None
