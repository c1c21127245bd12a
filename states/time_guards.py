"""Guards on the call's clock, read in the business timezone of `settings.business`:
`open_now`, `holiday`, `{day_of_week: [sat, sun]}`, `{time_between: "12:00-13:00"}`.

The clock is the call's (`StepContext.now`): event scripts set it with `clock:`, a real
call uses the real time. Opening hours and holidays come from the business calendar of
tools/calendar.py, the one reader of `settings.business`.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from typing import Any
from zoneinfo import ZoneInfo

from engine.environment import DIALFLOW_CLOCK
from flows.signatures import ArgKind, StepContext, guard

log = logging.getLogger("dialflow.clock")
CLOCK_ENV = DIALFLOW_CLOCK  # a fixed start time for every call (demos, tests)
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_cached: list[Any] = [None, None]  # [the business settings, their calendar]


def business_calendar(ctx: StepContext) -> Any:
    """The flow's BusinessCalendar, built once per flow."""
    from tools.calendar import BusinessCalendar

    business = ctx.flow.settings.business
    if _cached[0] is not business:  # a reloaded flow brings new settings: build again
        _cached[:] = [business, BusinessCalendar.from_settings(dict(business))]
    return _cached[1]


def local_now(ctx: StepContext) -> dt.datetime:
    return ctx.wall_clock().astimezone(business_calendar(ctx).timezone)


def local_clock(text: str, timezone: str | None) -> dt.datetime:
    """`2026-12-24T18:30` in the business timezone (an offset in the text wins), aware."""
    moment = dt.datetime.fromisoformat(str(text))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone) if timezone else dt.UTC)
    return moment


def fixed_clock(flow: Any, env: Any = None) -> dt.datetime | None:
    """$DIALFLOW_CLOCK (e.g. 2026-12-01T10:00, business timezone) or None: the real clock."""
    text = (os.environ if env is None else env).get(CLOCK_ENV)
    if not text:
        return None
    business = flow.settings.business
    try:
        return local_clock(text, business.get("timezone"))
    except ValueError:
        log.warning("%s=%r is not a date and time like 2026-12-01T10:00; using the real "
                    "clock", CLOCK_ENV, text)
        return None


@guard("holiday", ArgKind.BUSINESS)
def holiday(ctx: StepContext, _: Any) -> bool:
    """Today is one of settings.business.holidays."""
    return local_now(ctx).date() in business_calendar(ctx).holidays


@guard("open_now", ArgKind.BUSINESS)
def open_now(ctx: StepContext, _: Any) -> bool:
    """The business is open now: today's hours from settings.business, not a holiday."""
    calendar = business_calendar(ctx)
    now = local_now(ctx)
    hours = calendar.hours.get(now.weekday())
    if hours is None or now.date() in calendar.holidays:
        return False
    return hours.opens <= now.time().replace(tzinfo=None) < hours.closes


@guard("day_of_week", ArgKind.DAYS)
def day_of_week(ctx: StepContext, days: Any) -> bool:
    """Today (in the business timezone) is one of these days."""
    wanted = {str(d).lower() for d in (days if isinstance(days, list) else [days])}
    return _DAYS[local_now(ctx).weekday()] in wanted


@guard("time_between", ArgKind.TIME_RANGE)
def time_between(ctx: StepContext, span: Any) -> bool:
    """The local time is in "HH:MM-HH:MM" (start included, end excluded; may wrap midnight)."""
    start, end = (_minutes(part) for part in str(span).split("-"))
    now = local_now(ctx)
    at = now.hour * 60 + now.minute
    return start <= at < end if start <= end else at >= start or at < end


def _minutes(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 60 + int(minutes)
