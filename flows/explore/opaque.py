"""Guards the checker cannot read off the abstract call: the clock and call variables.

A variable only ever `set` to literals is tracked exactly (its value is part of the
configuration, its guards evaluated by the real guard functions). The clock guards of the
initial state's `call.started` handlers are resolved by trying real moments (each half hour
of two weeks, and every holiday): only outcomes some moment produces are explored, and the
witness script sets that moment with `clock:`. Any other clock or variable guard may go
either way; moves that guess one are marked `guessed` (a replay may differ).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from flows import signatures
from flows.model import Flow, GuardRef
from flows.signatures import StepContext
from flows.templates import is_templated

TIME_GUARDS = frozenset({"open_now", "holiday", "day_of_week", "time_between"})
VAR_GUARDS = frozenset({"is", "equals", "above", "below"})
OPAQUE_GUARDS = TIME_GUARDS | VAR_GUARDS
_FIRST_DAY = dt.date(2026, 11, 30)  # a Monday


def opaque_key(guard: GuardRef) -> str:
    return guard.name if guard.arg is None else f"{guard.name} {guard.arg}"


def tracked_vars(flow: Flow) -> tuple[str, ...]:
    """Variables every `set` gives a literal (no template): their values can be followed."""
    templated: set[str] = set()
    steps = [s for t in flow.transitions for s in t.actions]
    steps += [s for st in flow.states.values() for s in (*st.enter, *st.exit)]
    for step in steps:
        if step.name == "set" and isinstance(step.arg, dict):
            templated |= {n for n, v in step.arg.items()
                          if isinstance(v, str) and is_templated(v)}
    return tuple(n for n in flow.vars if n not in templated)


def var_holds(flow: Flow, guard: GuardRef, values: dict[str, Any]) -> bool:
    ctx = StepContext(flow, "", "", {}, {}, values)
    return bool(signatures.guards()[guard.name].fn(ctx, guard.arg))


def guard_var(guard: GuardRef) -> str:
    return str(guard.arg if guard.name == "is" else next(iter(guard.arg)))


def candidate_clocks(flow: Flow) -> list[dt.datetime]:
    """Moments worth trying, in the business timezone."""
    from zoneinfo import ZoneInfo

    business = flow.settings.business
    zone = ZoneInfo(business.get("timezone") or "UTC")
    days = [_FIRST_DAY + dt.timedelta(days=n) for n in range(14)]
    for holiday in business.get("holidays") or ():
        try:
            days.append(dt.date.fromisoformat(str(holiday)))
        except ValueError:
            continue
    return [dt.datetime.combine(day, dt.time(h, m), zone) for day in days
            for h in range(24) for m in (0, 30)]


def clock_outcomes(flow: Flow, guards: list[GuardRef]) -> dict[frozenset[str], str]:
    """Each realisable set of holding time guards -> a moment that gives it (ISO text)."""
    out: dict[frozenset[str], str] = {}
    for moment in candidate_clocks(flow):
        ctx = StepContext(flow, "", "call.started", {}, {}, now=moment)
        holding = frozenset(opaque_key(g) for g in guards
                            if signatures.guards()[g.name].fn(ctx, g.arg))
        out.setdefault(holding, moment.isoformat(timespec="minutes"))
    return out
