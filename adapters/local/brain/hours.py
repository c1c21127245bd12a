"""Answering "are you open?" questions from the business calendar (settings.business), for the
day asked about: "What time are you open until tomorrow?" -> "Tomorrow, Wednesday, we're open
until 5 PM."; "Are you still open?" -> "Yes, we're open until 5 PM today."; "Are you open on
Sunday?" -> "We're closed on Sundays."; "What are your hours?" -> the week in one sentence.

Times are said as people say them ("5 PM", "5:30 PM", "noon"), never "5:00 pm". The day
asked about is the one `when.parse_date` reads, where an explicit date wins over a holiday
name ("Saturday the 26th, after Christmas" is the 26th); a holiday by name stands for its
date ("New Year's Eve" is December 31st, open as any Thursday). A question about holidays
that names no day ("which holidays are you closed?") is left to the knowledge base.
Pure functions over the calendar and the injected time; touch nothing.
"""

from __future__ import annotations

import datetime as dt
import re

from adapters.local.brain.spoken import join, say_date, say_time
from adapters.local.brain.when import WEEKDAYS, clean, parse_date
from tools.calendar import BusinessCalendar

_ABOUT_HOURS = re.compile(
    r"\b(open|opens|opening|close|closes|closing|closed|hours|until|till|how late)\b")
#: The first or last appointment of a day, or how early one can come: the day's ends (not
#: "my last appointment", "a first-time patient").
_LAST = re.compile(
    r"(?<!\bmy )(?<!\bour )\b(last|latest|final) (appointment|slot)s?\b|\blatest time\b")
_FIRST = re.compile(r"(?<!\bmy )(?<!\bour )\b(first|earliest) (appointment|slot)s?\b|"
                    r"\bearliest time\b|\bhow early\b")
_NAMED_HOLIDAY = re.compile(
    r"\b(holiday|holidays|christmas|thanksgiving|new year|memorial|labor|independence|"
    r"july|easter|eve)\b"
)
_NOW = re.compile(r"\b(now|still open|right now|currently|at the moment|yet)\b")
_WEEKEND = re.compile(r"\bweekends?\b")
_ASKS_CLOSED = re.compile(r"^(are|is|will|do|does)\b.*\b(closed|close|shut)\b")


def _day_name(day: dt.date, today: dt.date) -> str:
    if day == today:
        return "today"
    if day == today + dt.timedelta(days=1):
        return f"tomorrow, {day:%A},"
    if day - today > dt.timedelta(days=6):
        return f"on {say_date(day)},"  # "on Thursday" alone would be this week's
    return f"on {day:%A}"


def _span(cal: BusinessCalendar, weekday: int) -> str | None:
    hours = cal.hours[weekday]
    if hours is None:
        return None
    return f"{say_time(hours.opens)} to {say_time(hours.closes)}"


def week(cal: BusinessCalendar) -> str:
    """The opening hours of the week, days with the same hours together."""
    groups: list[tuple[list[int], str | None]] = []
    for weekday in range(7):
        span = _span(cal, weekday)
        if groups and groups[-1][1] == span:
            groups[-1][0].append(weekday)
        else:
            groups.append(([weekday], span))
    open_parts, closed = [], []
    for days, span in groups:
        names = [WEEKDAYS[d].capitalize() for d in days]
        label = names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}"
        if span is None:
            closed += [f"{n}s" for n in names]
        else:
            open_parts.append(f"{label} {span}")
    sentence = f"We're open {join(open_parts, 'and')}"
    return sentence + (f". We're closed on {join(closed, 'and')}." if closed else ".")


def _on_day(cal: BusinessCalendar, day: dt.date, today: dt.date, *, until: bool) -> str:
    name = _day_name(day, today)
    if day in cal.holidays:
        return f"We're closed {name.rstrip(',')} for the holiday."
    hours = cal.hours[day.weekday()]
    if hours is None:
        return f"We're closed on {day:%A}s."
    if until and day - today > dt.timedelta(days=6):
        until = False  # a day weeks ahead: say both ends, the caller may not know the weekday
    lead = name[0].upper() + name[1:]
    if until:
        return f"{lead} we're open until {say_time(hours.closes)}."
    return f"{lead} we're open from {say_time(hours.opens)} to {say_time(hours.closes)}."


def _last_start(cal: BusinessCalendar, weekday: int) -> dt.time | None:
    hours = cal.hours[weekday]
    if hours is None:
        return None
    closes = dt.datetime.combine(dt.date.min, hours.closes) - cal.slot_length
    return closes.time()


def _ends(cal: BusinessCalendar, day: dt.date | None, today: dt.date, *, last: bool) -> str:
    """The first or (`last`) the last appointment of `day`, or of every open weekday."""
    what = "the last appointment starts at" if last else "we open at"
    if day is not None:
        name = _day_name(day, today).rstrip(",")
        hours = cal.hours[day.weekday()]
        if day in cal.holidays or hours is None:
            return _on_day(cal, day, today, until=False)
        at = _last_start(cal, day.weekday()) if last else hours.opens
        assert at is not None
        return f"{name[0].upper()}{name[1:]}, {what} {say_time(at)}."
    groups: list[tuple[list[str], str]] = []
    for weekday in range(7):
        at = _last_start(cal, weekday) if last else (
            cal.hours[weekday].opens if cal.hours[weekday] else None)  # type: ignore[union-attr]
        if at is None:
            continue
        if groups and groups[-1][1] == say_time(at):
            groups[-1][0].append(WEEKDAYS[weekday].capitalize())
        else:
            groups.append(([WEEKDAYS[weekday].capitalize()], say_time(at)))
    parts = [f"{t} {d[0] if len(d) == 1 else f'{d[0]} to {d[-1]}'}" for d, t in groups]
    return f"{what[0].upper()}{what[1:]} {join(parts, 'and')}."


def _next_open(cal: BusinessCalendar, after: dt.date) -> tuple[dt.date, dt.time] | None:
    for ahead in range(1, 15):
        day = after + dt.timedelta(days=ahead)
        hours = cal.hours[day.weekday()]
        if hours is not None and day not in cal.holidays:
            return day, hours.opens
    return None


def _right_now(cal: BusinessCalendar, now: dt.datetime) -> str:
    today = now.date()
    hours = cal.hours[today.weekday()]
    if hours is not None and today not in cal.holidays:
        if now.time() < hours.opens:
            return (f"We open at {say_time(hours.opens)} today, "
                    f"and we're open until {say_time(hours.closes)}.")
        if now.time() < hours.closes:
            return f"Yes, we're open until {say_time(hours.closes)} today."
    following = _next_open(cal, today)
    closed = "We're closed for the holiday today." if today in cal.holidays else (
        "We're closed today." if hours is None else "We've closed for today.")
    if following is None:
        return closed
    day, opens = following
    when = "tomorrow" if day == today + dt.timedelta(days=1) else f"on {day:%A}"
    return f"{closed} We open again {when} at {say_time(opens)}."


def hours_answer(text: str, now: dt.datetime, cal: BusinessCalendar | None) -> list[str] | None:
    """The answer to an opening-hours question, or None when `text` is not one (or names a
    holiday, which the knowledge base answers)."""
    words = clean(text)
    ends = _LAST.search(words) or _FIRST.search(words)
    if cal is None or not (_ABOUT_HOURS.search(words) or ends):
        return None
    today = now.date()
    day = parse_date(text, today)  # an explicit date first, then a holiday's name
    if _NAMED_HOLIDAY.search(words):
        if day is None:
            return None  # "which holidays are you closed?": the knowledge base's to answer
        if day in cal.holidays:
            yes = "Yes" if _ASKS_CLOSED.search(words) else "No"
            return [f"{yes}, we're closed on {say_date(day)} for the holiday."]
    until = bool(re.search(r"\b(until|till|close|closes|closing|late)\b", words))
    if ends:
        return [_ends(cal, day, today, last=bool(_LAST.search(words)))]
    if _WEEKEND.search(words):
        sat, sun = _span(cal, 5), _span(cal, 6)
        return [f"On Saturdays we're open {sat}." if sat else "We're closed on Saturdays.",
                f"On Sundays we're open {sun}." if sun else "We're closed on Sundays."]
    if day is None:
        if _NOW.search(words) or re.search(r"\b(today|tonight)\b", words):
            return [_right_now(cal, now)]
        return [week(cal)]
    if day == today:
        return [_right_now(cal, now)]
    return [_on_day(cal, day, today, until=until)]
