"""Checking and cancelling the caller's own appointments.

Both start with `check_appointment` for the number the caller is calling from (the tool
refuses any other). Checking reads the list back. Cancelling picks the appointment (the one
there is, the one the request named, or asks "which one?"), confirms, and only on "yes" asks
for `cancel_appointment` with that appointment's date and time.
Touches only the `CallState` it is given.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from adapters.local.brain.keywords import NO, YES, says_do
from adapters.local.brain.replies import (
    WITHHELD,
    Out,
    ToolAnswer,
    TurnContext,
    anything_else,
    ask,
    offer_help,
    use_tool,
)
from adapters.local.brain.slots import choice_in, matching, reason_in, say_reason
from adapters.local.brain.spoken import count, join, last_digits, say_when
from adapters.local.brain.state import CallState, Stage
from adapters.local.brain.when import parse_when

CHECK_TOOL, CANCEL_TOOL = "check_appointment", "cancel_appointment"
_MAX_READ = 3
_RESCHEDULE = re.compile(r"\b(reschedul\w*|move|change)\b")
_KEEP = re.compile(r"\b(never ?mind|forget it|keep|leave it|none|neither)\b")


def describe(appt: dict[str, Any], *, own: bool = False) -> str:
    """"a cleaning on Thursday, December 3rd at 5:30 PM" ("your cleaning ..." with `own`)."""
    what = say_reason(str(appt.get("reason") or "checkup"))
    if own:
        what = "your " + what.split(" ", 1)[1]
    day, at = _slot(appt)
    when = say_when(day, at) if day and at else str(appt.get("spoken") or "the booked time")
    return f"{what} on {when}"


def _slot(appt: dict[str, Any]) -> tuple[dt.date | None, dt.time | None]:
    try:
        return dt.date.fromisoformat(str(appt["date"])), dt.time.fromisoformat(str(appt["time"]))
    except (KeyError, ValueError):
        return None, None


def _listing(appts: list[dict[str, Any]]) -> str:
    said = [describe(a) for a in appts[:_MAX_READ]]
    more = len(appts) - _MAX_READ
    if more > 0:
        said.append(f"{count(more)} more")
    return join(said, "and")


def start_check(state: CallState, ctx: TurnContext) -> list[Out]:
    state.reset_task()
    if ctx.caller is None:
        return offer_help(state, WITHHELD)
    state.task = "check"
    return use_tool(state, CHECK_TOOL, {}, "Let me look that up.")


def start_cancel(state: CallState, ctx: TurnContext) -> list[Out]:
    state.reset_task()
    if ctx.caller is None:
        return offer_help(state, WITHHELD)
    state.task = "cancel"
    state.rebook = bool(_RESCHEDULE.search(ctx.text.lower()))
    when = parse_when(ctx.text, ctx.today)
    state.hint_date, state.hint_time = when.date, when.time
    state.hint_reason = reason_in(ctx.text)  # "cancel my cleaning"
    return use_tool(state, CHECK_TOOL, {}, "Let me look up your appointments.")


def after_check(state: CallState, answer: ToolAnswer, ctx: TurnContext) -> list[Out]:
    if not answer.ok:
        if answer.code == "forbidden":
            return offer_help(state, WITHHELD)
        return offer_help(state, "I'm sorry, I couldn't look up your appointments just now.")
    appts = [a for a in answer.data.get("appointments") or [] if isinstance(a, dict)]
    ending = last_digits(ctx.caller or str(answer.data.get("phone") or ""))
    if state.task == "cancel":
        return _cancel_candidates(state, appts, ending)
    if not appts:
        state.reset_task()
        state.stage = Stage.OFFER_BOOK
        return ask(
            state, f"I don't see any upcoming appointments for the number ending in {ending}.",
            "Would you like to book one?",
        )
    if len(appts) == 1:
        name = appts[0].get("name")
        return anything_else(state, f"You have {describe(appts[0])}" +
                             (f" for {name}." if name else "."))
    return anything_else(
        state, f"You have {count(len(appts))} upcoming appointments: {_listing(appts)}."
    )


def _cancel_candidates(state: CallState, appts: list[dict[str, Any]], ending: str) -> list[Out]:
    if not appts:
        return anything_else(
            state,
            f"I don't see any upcoming appointments for the number ending in {ending}, "
            "so there's nothing to cancel.",
        )
    state.appointments = appts
    hinted = _matching_when(appts, state.hint_date, state.hint_time)
    if not hinted and state.hint_reason:
        hinted = [a for a in appts if a.get("reason") == state.hint_reason]
    if len(appts) == 1 or len(hinted) == 1:
        return _confirm(state, (hinted or appts)[0])
    state.stage = Stage.CHOOSE_CANCEL
    return ask(
        state, f"You have {count(len(appts))} upcoming appointments: {_listing(appts)}.",
        "Which one would you like to cancel?",
    )


def _matching_when(
    appts: list[dict[str, Any]], day: dt.date | None, at: dt.time | None
) -> list[dict[str, Any]]:
    if day is None and at is None:
        return []
    out = []
    for appt in appts:
        a_day, a_time = _slot(appt)
        if day not in (None, a_day) or at not in (None, a_time):
            continue
        out.append(appt)
    return out


def _confirm(state: CallState, appt: dict[str, Any]) -> list[Out]:
    state.target = appt
    state.stage = Stage.CONFIRM_CANCEL
    return ask(state, f"I see {describe(appt)}.", "Shall I cancel it?")


def on_choose(state: CallState, ctx: TurnContext) -> list[Out] | None:
    """Which appointment to cancel; None when the words did not pick one."""
    appts = state.appointments
    index = choice_in(ctx.text, len(appts))
    if index is not None:
        return _confirm(state, appts[index])
    when = parse_when(ctx.text, ctx.today, bare_time=True)
    picked = _matching_when(appts, when.date, when.time)
    if len(picked) != 1:
        reasons = [str(a.get("reason") or "") for a in appts]
        found = matching(reasons, ctx.text)
        picked = [appts[i] for i in found] if len(found) == 1 else picked
    if len(picked) == 1:
        return _confirm(state, picked[0])
    if ctx.is_(NO) or _KEEP.search(ctx.text.lower()):
        return anything_else(state, "Okay, I'll leave your appointments as they are.")
    return None


def on_confirm(state: CallState, ctx: TurnContext, *, heard: bool) -> list[Out] | None:
    """The answer to "Shall I cancel it?" ("just cancel it" is a yes)."""
    target = state.target
    assert target is not None
    if ctx.is_(YES) or says_do(ctx.text, "cancel"):
        if not heard:
            return ask(state, "Sorry, just to be sure.", *state.question)
        return use_tool(
            state, CANCEL_TOOL, {"date": target.get("date"), "time": target.get("time")},
            "One moment.",
        )
    if ctx.is_(NO) or _KEEP.search(ctx.text.lower()):
        return anything_else(state, "Okay, I'll leave it as it is.")
    return None


def after_cancel(state: CallState, answer: ToolAnswer, ctx: TurnContext) -> list[Out]:
    if answer.ok:
        done = f"Done. I've cancelled {describe(answer.data, own=True)}."
        if state.rebook:
            state.reset_task()
            state.stage = Stage.OFFER_BOOK
            return ask(state, done, "Would you like to book a new time?")
        return anything_else(state, done)
    if answer.code == "ambiguous":
        appts = [a for a in answer.error.get("appointments") or [] if isinstance(a, dict)]
        if appts:
            state.task = "cancel"
            return _cancel_candidates(state, appts, last_digits(ctx.caller or ""))
    if answer.code == "not_found":
        return anything_else(
            state, "I couldn't find that appointment anymore; it may already be cancelled."
        )
    if answer.code == "forbidden":
        return offer_help(state, WITHHELD)
    return offer_help(state, "I'm sorry, I couldn't cancel that just now.")
