"""Call variables: the `set` behaviour and the guards that test a variable.

    do: [{set: {member_id: "{event.digits}", insurance_asked: true}}]
    if: {is: insurance_asked}          # truthy
    if: {equals: {plan: gold}}
    if: {above: {attempts: 2}}         # and `below`, numbers only

A value is a literal or a template (`{event.field}`, `{event.result.plan}`, `{vars.x}`,
`{business.name}`, `{caller}`); a template that is one name keeps that value's type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from engine.effect import CallControl, ControlEffect, Effect
from flows.signatures import ArgKind, StepContext, action, guard
from flows.templates import resolve


def template_values(ctx: StepContext) -> dict[str, Any]:
    """What `{…}` names can read in this context."""
    return {"business": dict(ctx.flow.settings.business),
            "vars": dict(ctx.vars), "event": dict(ctx.data), "caller": ctx.caller,
            "last_reply": ctx.last_reply, "last_said": ctx.last_said}


@dataclass(frozen=True)
class SetVar(ControlEffect):
    """Set a call variable declared under `vars:` (at once: later guards read it)."""

    name: str
    value: Any = field(default=None, hash=False)
    kind = "set"

    def describe(self) -> str:
        return f"set {self.name}"  # not the value: it may be a caller's name or number

    def apply(self, call: CallControl) -> None:
        call.vars[self.name] = self.value


@action("set", ArgKind.VAR_VALUES)
def set_vars(ctx: StepContext, values: Any) -> list[Effect]:
    """Set call variables from literals, event fields or other variables."""
    known = template_values(ctx)
    return [SetVar(str(name), _bounded(resolve(value, known))) for name, value in values.items()]


MAX_TEXT = 500  # a variable filled from what the caller said stays a sentence, not a speech


def _bounded(value: Any) -> Any:
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT]
    if isinstance(value, (dict, list)):  # a whole tool result: kept as text, bounded
        return _bounded(str(value))
    return value


@guard("is", ArgKind.VAR)
def is_set(ctx: StepContext, name: Any) -> bool:
    """The variable holds something: not empty, zero, false or null."""
    return bool(ctx.vars.get(name))


@guard("equals", ArgKind.VAR_COMPARE)
def equals(ctx: StepContext, pair: Any) -> bool:
    """The variable equals this value (text compared as text)."""
    (name, value), = pair.items()
    current = ctx.vars.get(name)
    return current == value or str(current) == str(value)


@guard("above", ArgKind.VAR_COMPARE)
def above(ctx: StepContext, pair: Any) -> bool:
    """The variable is a number greater than this one."""
    (name, value), = pair.items()
    number = _number(ctx.vars.get(name))
    return number is not None and number > value


@guard("below", ArgKind.VAR_COMPARE)
def below(ctx: StepContext, pair: Any) -> bool:
    """The variable is a number smaller than this one."""
    (name, value), = pair.items()
    number = _number(ctx.vars.get(name))
    return number is not None and number < value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None
