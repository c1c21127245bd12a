"""Rescheduling and the availability check: `reschedule_appointment` moves one of the caller's
own appointments as ONE transaction (the new slot is booked before the old one is released; if
the new slot is refused the old appointment is kept untouched), and `check_availability` tells
whether a slot is free, with the nearest free ones when it is not, so an agent can check a
time before it asks the caller to confirm it.

Same rules as `tools.appointments`: the business calendar and the clock decide what is
bookable; only the number the caller is calling from. Touches the storage only.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tools.appointments import _describe, _own_phone, _unavailable, bookable_start
from tools.context import ToolContext
from tools.registry import tool
from tools.result import ToolError
from tools.storage import SlotTaken


@tool
def check_availability(ctx: ToolContext, date: dt.date, time: dt.time) -> dict[str, Any]:
    """Is this appointment time free? (Books nothing.) When it is not, the error lists the
    nearest free times.

    Args:
        date: Day (YYYY-MM-DD).
        time: Start time in the office's local time, 24-hour HH:MM.
    """
    start = bookable_start(ctx, date, time)
    if ctx.storage.appointment_at(start) is not None:
        raise _unavailable(ctx, start, "taken", "That time is already booked.")
    return {"free": True, **ctx.calendar.slot_info(start)}


@tool
def reschedule_appointment(
    ctx: ToolContext, date: dt.date, time: dt.time, new_date: dt.date, new_time: dt.time
) -> dict[str, Any]:
    """Move one of the caller's upcoming appointments to a new time, in one step: the new time
    is booked first and the old one released only then; if the new time is not free the old
    appointment stays as it is.

    Args:
        date: Day of the appointment to move (YYYY-MM-DD).
        time: Its start time (HH:MM).
        new_date: The new day (YYYY-MM-DD).
        new_time: The new start time (HH:MM).
    """
    own = _own_phone(ctx, None)
    cal = ctx.calendar
    matches = [
        appt for appt in ctx.storage.upcoming_for_phone(own, now=ctx.now())
        if cal.to_local(appt.start).date() == date
        and cal.to_local(appt.start).time().replace(second=0) == time
    ]
    if not matches:
        raise ToolError("not_found", f"No upcoming appointment at that time for the number "
                        f"ending in {own[-4:]}.")
    start = bookable_start(ctx, new_date, new_time)
    try:
        moved = ctx.storage.reschedule(matches[0].id, phone=own, start=start,
                                       end=start + cal.slot_length, call_id=ctx.call_id)
    except SlotTaken:
        raise _unavailable(ctx, start, "taken", "That time is already booked; the "
                           "appointment was not moved.") from None
    if moved is None:
        raise ToolError("not_found", "That appointment was cancelled meanwhile.")
    old, new = moved
    return {**_describe(ctx, new), "old": _describe(ctx, old),
            "message": "The appointment is moved."}
