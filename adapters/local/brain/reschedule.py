"""Moving the caller's own appointment to another time, as ONE transaction.

"I need to move my cleaning to Friday at 10": look the caller's appointments up
(`check_appointment`), pick the one to move (the only one, the one named, or ask), keep the
new day and time the caller already gave (ask only for what is missing), check them against
the opening hours, confirm, and only on "yes" ask for `reschedule_appointment`, which books the
new slot before it releases the old one. If the new slot is refused the old appointment stays
booked, the caller is told so and offered the nearest free times. Nothing is cancelled first.
Touches only the `CallState` it is given.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from adapters.local.brain.booking import BookingDialogue, _pick
from adapters.local.brain.check_cancel import _matching_when, _slot, describe
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
from adapters.local.brain.slots import choice_in, matching, reason_in
from adapters.local.brain.spoken import count, say_date, say_slots, say_when
from adapters.local.brain.state import Booking, CallState, Stage
from adapters.local.brain.when import When, parse_when

CHECK_TOOL, MOVE_TOOL = "check_appointment", "reschedule_appointment"
RESCHEDULE = re.compile(r"\b(reschedul\w*|move|change|push|switch|slide)\b", re.IGNORECASE)
_VISIT = (r"(appointment|visit|cleaning|check ?up|booking|filling|exam|examination|whitening|"
          r"crown|consultation|root canal|extraction|one)")
#: A request to move an appointment, whatever the intent classifier made of it: a verb of
#: moving with the caller's visit as its object ("push my checkup back"), or any verb with
#: the visit and a direction in time ("bring my cleaning forward", "move it up a day").
REQUEST = re.compile(
    r"\breschedul|\b(move|change|push|switch|shift|bump|slide)\b (back )?(my|our|the|his|her|"
    rf"\w+'s)\b[\w' ]*\b{_VISIT}\b|"
    r"\b(move|push|bring|bump|shift|put|slide)\b (my|our|the|his|her|it|that|\w+'s)\b"
    r"[\w' ]{0,30}?\b(forward|earlier|later|back|up)\b|"
    # "I have a cleaning Monday at 9. Could we make it 11 instead?"
    r"\b(make|change|switch|have) it (to |for |at )?[\w' ]{0,25}\binstead\b",
    re.IGNORECASE,
)
_NEW_PART = re.compile(r"\b(to|for|until|till|into|instead|make it|have it)\b", re.IGNORECASE)
#: The caller keeps one half of the old slot: "to Friday, same time", "same day but at 3".
_SAME_TIME = re.compile(r"\b(same time|same hour|keep the (same )?time|(the )?time stays)\b",
                        re.IGNORECASE)
_SAME_DAY = re.compile(
    r"\b(same day|keep the (same )?day|(the )?day stays|(later|earlier) (in|on) the day|"
    r"(later|earlier) that day|that same day)\b", re.IGNORECASE)
_KEEP = re.compile(r"\b(never ?mind|forget it|keep|leave it|none|neither)\b")


def _split(text: str, today: dt.date) -> tuple[When, When]:
    """(the appointment named, the new time): "move my Thursday one to Friday at 10", "I have
    a cleaning Monday at 9, could we make it 11?". The new part starts at the last
    "to"/"for"/"instead"/"make it" followed by a day or time, so "I need to
    move it from Thursday to next Wednesday" is not cut at "need to"."""
    for found in reversed(list(_NEW_PART.finditer(text))):
        new = parse_when(text[found.end():], today)
        if new.date is not None or new.time is not None:
            return parse_when(text[: found.start()], today), new
    return When(), parse_when(text, today)


def _keep_old_half(state: CallState, text: str) -> bool:
    """Take the old day or time where the caller said "same time"/"same day"; whether any
    was taken."""
    target, new = state.target, state.booking
    state.keep_time = state.keep_time or bool(_SAME_TIME.search(text))
    state.keep_day = state.keep_day or bool(_SAME_DAY.search(text))
    if target is None:
        return False
    day, at = _slot(target)
    taken = False
    if state.keep_time and at is not None and new.time != at:
        new.time, taken = at, True
    if state.keep_day and day is not None and new.date != day:
        new.date, taken = day, True
    return taken


def start(state: CallState, ctx: TurnContext) -> list[Out]:
    state.reset_task()
    if ctx.caller is None:
        return offer_help(state, WITHHELD)
    state.task = "reschedule"
    old, new = _split(ctx.text, ctx.today)
    state.hint_date, state.hint_time = old.date, old.time
    state.hint_reason = reason_in(ctx.text)  # "move my filling to Friday": which one
    state.booking = Booking(date=new.date, time=new.time)
    # "could we make it 11 instead?": a new time alone is on the same day
    state.keep_day = new.time is not None and new.date is None
    _keep_old_half(state, ctx.text)
    return use_tool(state, CHECK_TOOL, {}, "Let me look up your appointments.")


def after_check(
    state: CallState, answer: ToolAnswer, ctx: TurnContext, dialogue: BookingDialogue
) -> list[Out]:
    if not answer.ok:
        return offer_help(state, "I'm sorry, I couldn't look up your appointments just now.")
    appts = [a for a in answer.data.get("appointments") or [] if isinstance(a, dict)]
    if not appts:
        state.reset_task()
        state.stage = Stage.OFFER_BOOK
        return ask(state, "I don't see any upcoming appointments for your number.",
                   "Would you like to book one?")
    state.appointments = appts
    hinted = _matching_when(appts, state.hint_date, state.hint_time)
    if not hinted and state.hint_reason:
        hinted = [a for a in appts if a.get("reason") == state.hint_reason]
    if len(appts) == 1 or len(hinted) == 1:
        return _target(state, (hinted or appts)[0], ctx, dialogue)
    state.stage = Stage.CHOOSE_MOVE
    said = [describe(a) for a in appts[:3]]
    return ask(state, f"You have {count(len(appts))} upcoming appointments: "
               f"{', and '.join(said)}.", "Which one would you like to move?")


def on_choose(
    state: CallState, ctx: TurnContext, dialogue: BookingDialogue
) -> list[Out] | None:
    appts = state.appointments
    index = choice_in(ctx.text, len(appts))
    picked = [appts[index]] if index is not None else []
    if not picked:
        when = parse_when(ctx.text, ctx.today, bare_time=True)
        picked = _matching_when(appts, when.date, when.time)
    if len(picked) != 1:
        found = matching([str(a.get("reason") or "") for a in appts], ctx.text)
        picked = [appts[i] for i in found] if len(found) == 1 else picked
    if len(picked) == 1:
        return _target(state, picked[0], ctx, dialogue)
    if ctx.is_(NO) or _KEEP.search(ctx.text.lower()):
        return anything_else(state, "Okay, I'll leave your appointments as they are.")
    return None


def _target(
    state: CallState, appt: dict[str, Any], ctx: TurnContext, dialogue: BookingDialogue
) -> list[Out]:
    state.target = appt
    _keep_old_half(state, "")
    return _next(state, ctx, dialogue)


def _next(
    state: CallState, ctx: TurnContext, dialogue: BookingDialogue, *before: str
) -> list[Out]:
    """Ask for the new day or time still missing, else confirm the move."""
    new = state.booking
    problems = dialogue._precheck(new, ctx.now)
    target = state.target
    assert target is not None
    if new.date is None:
        state.stage, state.asked = Stage.ASK_MOVE, "date"
        return ask(state, *before, *problems,
                   f"I see {describe(target, own=True)}.",
                   "What day would you like to move it to?")
    if new.time is None:
        state.stage, state.asked = Stage.ASK_MOVE, "time"
        return ask(state, *before, *problems, f"What time works for you on {say_date(new.date)}?")
    state.stage, state.asked = Stage.CONFIRM_MOVE, None
    return ask(state, *before, f"Just to confirm: I'll move {describe(target, own=True)} to "
               f"{say_when(new.date, new.time)}.", "Shall I go ahead?")


def on_answer(
    state: CallState, ctx: TurnContext, dialogue: BookingDialogue
) -> list[Out] | None:
    """The new day or time (or one of the offered times)."""
    new = state.booking
    when = parse_when(ctx.text, ctx.today, bare_time=state.asked == "time")
    if new.offered:
        picked = _pick(new, ctx.text, when, ctx)
        if picked is not None:
            new.date, new.time = picked
            new.offered = []
            return _next(state, ctx, dialogue)
    if when.time is not None and not _SAME_TIME.search(ctx.text):
        state.keep_time = False  # a time said now wins over an earlier "same time"
    if when.date is not None and not _SAME_DAY.search(ctx.text):
        state.keep_day = False
    changed = _keep_old_half(state, ctx.text)
    for slot in ("date", "time"):
        value = getattr(when, slot)
        if value is not None and value != getattr(new, slot):
            setattr(new, slot, value)
            changed = True
    if changed:
        return _next(state, ctx, dialogue)
    if _KEEP.search(ctx.text.lower()) or ctx.is_(NO):
        return anything_else(state, "Okay, I'll leave your appointment as it is.")
    return None


def on_confirm(
    state: CallState, ctx: TurnContext, dialogue: BookingDialogue, *, heard: bool
) -> list[Out] | None:
    if ctx.is_(YES) or says_do(ctx.text, "move", "reschedule", "change"):
        if not heard:
            return ask(state, "Sorry, just to be sure.", *state.question)
        target, new = state.target, state.booking
        assert target is not None and new.date is not None and new.time is not None
        args = {"date": target.get("date"), "time": target.get("time"),
                "new_date": new.date.isoformat(), "new_time": f"{new.time:%H:%M}"}
        return use_tool(state, MOVE_TOOL, args, "One moment.")
    if ctx.is_(NO):
        state.booking.date = state.booking.time = None
        state.stage, state.asked = Stage.ASK_MOVE, "date"
        return ask(state, "No problem.", "What day and time would you prefer instead?")
    return on_answer(state, ctx, dialogue)  # another day or time instead: confirm that


def after_move(state: CallState, answer: ToolAnswer, ctx: TurnContext) -> list[Out]:
    target = state.target or {}
    if answer.ok:
        day, at = _slot(answer.data)
        when = say_when(day, at) if day and at else "the new time"
        what = describe(answer.data, own=True).split(" on ")[0]
        return anything_else(state, f"Done. {what[0].upper()}{what[1:]} is now on {when}.",
                             "We'll send you a text reminder two days before.")
    kept = f"Your appointment on {_when(target)} is still booked."
    if answer.code == "slot_unavailable":
        offered = []
        for alt in answer.error.get("alternatives") or []:
            day, at = _slot(alt)
            if day and at:
                offered.append((day, at))
        new = state.booking
        lead = "I'm sorry, that time is already taken." if answer.error.get("reason") == "taken" \
            else "I'm sorry, we can't book that time."
        new.time = None
        new.offered = offered
        if not offered:
            return offer_help(state, lead, kept)
        state.stage, state.asked = Stage.ASK_MOVE, "time"
        return ask(state, lead, kept, f"The nearest free times are {say_slots(offered)}.",
                   "Would one of those work?")
    if answer.code == "not_found":
        return anything_else(state, "I couldn't find that appointment anymore.")
    return offer_help(state, "I'm sorry, I couldn't move it just now.", kept)


def _when(appt: dict[str, Any]) -> str:
    day, at = _slot(appt)
    return say_when(day, at) if day and at else "the booked time"
