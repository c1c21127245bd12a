"""Appointment tools: `book_appointment`, `check_appointment`, `cancel_appointment`.

Booking checks formats, the business calendar and the clock, then relies on the database's
unique index to refuse double booking (so it holds across threads, processes and servers);
an unavailable slot comes back with the nearest free ones. Looking up and cancelling work
only for the caller's own number (the caller id in `ToolContext`). Touches the storage only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from engine.redaction import redact_number
from tools.context import ToolContext
from tools.phone import OptionalPhone, Phone, phone_argument
from tools.registry import tool
from tools.result import ToolError
from tools.schema import text_rules
from tools.storage import Appointment, SlotTaken

Text = Annotated[str, text_rules(200)]  # one line, no control characters
MAX_ALTERNATIVES = 3
SEARCH_DAYS = 14


def _own_phone(ctx: ToolContext, phone: str | None) -> str:
    """The caller's E.164 number; refuses any other number."""
    caller = ctx.caller_e164
    if caller is None:
        raise ToolError(
            "forbidden",
            "The caller's number is withheld, so appointments cannot be looked up by phone. "
            "Offer to take a message instead.",
        )
    if phone is not None and phone_argument(phone) != caller:
        raise ToolError(
            "forbidden",
            "For privacy, appointments can only be looked up for the number the caller is "
            f"calling from (ending in {caller[-4:]}).",
            field="phone",
        )
    return caller


def _describe(ctx: ToolContext, appt: Appointment) -> dict[str, Any]:
    return {
        "appointment_id": appt.id,
        "name": appt.name,
        **ctx.calendar.slot_info(appt.start),
        "end_time": f"{ctx.calendar.to_local(appt.end):%H:%M}",
        "reason": appt.reason,
        "status": appt.status,
    }


def _unavailable(ctx: ToolContext, requested: dt.datetime, reason: str, message: str) -> ToolError:
    cal, now = ctx.calendar, ctx.now()
    window = dt.timedelta(days=SEARCH_DAYS + 1)
    taken = ctx.storage.booked_starts(requested - window, requested + window)
    free = cal.nearest_free_slots(
        requested, now=now, taken=taken, limit=MAX_ALTERNATIVES, search_days=SEARCH_DAYS
    )
    alternatives = [cal.slot_info(slot) for slot in free]
    offer = " Nearest free times: " + "; ".join(a["spoken"] for a in alternatives) + "."
    return ToolError(
        "slot_unavailable",
        message + (offer if alternatives else " No free times in the next two weeks."),
        field="date" if reason in ("past", "holiday", "closed_day") else "time",
        details={"reason": reason, "alternatives": alternatives},
    )


def bookable_start(ctx: ToolContext, date: dt.date, time: dt.time) -> dt.datetime:
    """The aware start of a bookable slot (within the booking horizon, open, in the future),
    or the `slot_unavailable` error with alternatives. Booking and rescheduling share it."""
    cal = ctx.calendar
    within = cal.check_day(date, now=ctx.now())  # before any datetime arithmetic can overflow
    if within.reason == "too_far":
        raise ToolError("slot_unavailable", within.message, field="date",
                        details={"reason": "too_far", "alternatives": []})
    if within.reason == "past":
        raise _unavailable(ctx, ctx.now(), "past", within.message)
    requested = dt.datetime.combine(date, time, tzinfo=cal.timezone)
    try:
        start = cal.local(date, time)
    except ValueError as exc:
        raise _unavailable(ctx, requested, "nonexistent_time", f"{exc}.") from exc
    check = cal.check(start, now=ctx.now())
    if not check.ok:
        raise _unavailable(ctx, start, check.reason or "unavailable", check.message)
    return start


@tool
def book_appointment(
    ctx: ToolContext, name: Text, phone: Phone, date: dt.date, time: dt.time, reason: Text
) -> dict[str, Any]:
    """Book an appointment at a free slot during opening hours.

    Args:
        name: The patient's full name.
        phone: Phone number for the appointment: 10-digit US number or +country code.
        date: Day of the appointment (YYYY-MM-DD).
        time: Start time in the office's local time, 24-hour HH:MM.
        reason: Why the appointment is needed, in a few words.
    """
    number = phone_argument(phone)
    cal = ctx.calendar
    start = bookable_start(ctx, date, time)
    try:
        appt = ctx.storage.book(
            name=name.strip(), phone=number, start=start, end=start + cal.slot_length,
            timezone=cal.timezone.key, reason=reason.strip(), call_id=ctx.call_id,
        )
    except SlotTaken as taken:
        holder = taken.holder
        if holder and holder.phone == number and holder.name.casefold() == name.strip().casefold():
            return {**_describe(ctx, holder), "already_booked": True}
        raise _unavailable(ctx, start, "taken", "That time is already booked.") from None
    return {**_describe(ctx, appt), "already_booked": False}


@tool
def check_appointment(ctx: ToolContext, phone: OptionalPhone = None) -> dict[str, Any]:
    """List the caller's upcoming appointments (only for the number they are calling from).

    Args:
        phone: The caller's phone number; leave empty to use the number they are calling from.
    """
    own = _own_phone(ctx, phone)
    found = ctx.storage.upcoming_for_phone(own, now=ctx.now())
    return {
        "phone": redact_number(own),
        "appointments": [_describe(ctx, appt) for appt in found],
        "message": f"{len(found)} upcoming appointment(s) for the number ending in {own[-4:]}.",
    }


@tool
def cancel_appointment(
    ctx: ToolContext,
    phone: OptionalPhone = None,
    date: dt.date | None = None,
    time: dt.time | None = None,
) -> dict[str, Any]:
    """Cancel one of the caller's upcoming appointments (only for the number they call from).

    Args:
        phone: The caller's phone number; leave empty to use the number they are calling from.
        date: Day of the appointment to cancel (YYYY-MM-DD); needed if they have several.
        time: Start time of the appointment to cancel (HH:MM); needed if several that day.
    """
    own = _own_phone(ctx, phone)
    cal = ctx.calendar
    matches = [
        appt
        for appt in ctx.storage.upcoming_for_phone(own, now=ctx.now())
        if (date is None or cal.to_local(appt.start).date() == date)
        and (time is None or cal.to_local(appt.start).time().replace(second=0) == time)
    ]
    if not matches:
        raise ToolError(
            "not_found",
            f"No upcoming appointment matches for the number ending in {own[-4:]}.",
        )
    if len(matches) > 1:
        raise ToolError(
            "ambiguous",
            "The caller has several upcoming appointments; ask which one (date and time).",
            details={"appointments": [_describe(ctx, appt) for appt in matches]},
        )
    cancelled = ctx.storage.cancel(matches[0].id, phone=own)
    if cancelled is None:
        raise ToolError("not_found", "That appointment was already cancelled.")
    return {**_describe(ctx, cancelled), "message": "The appointment is cancelled."}
