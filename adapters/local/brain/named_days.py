"""Days callers name instead of a date: "Christmas Eve", "New Year's Day", "Thanksgiving",
"Labor Day", "the day after Christmas", "the Monday after Christmas".

`named_day(words, today)` is the next such day on or after `today` (the cleaned, lowercase
words of `when.clean`), or None when `words` name none. Fixed-date holidays and the US ones
defined by a weekday of a month (Thanksgiving: the fourth Thursday of November) are both
computed, for this year or the next. Whether the clinic is closed then is the calendar's
business, not this module's. Pure functions; no clock, no I/O.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

#: A fixed (month, day), or the n-th weekday (0 = Monday) of a month (n = -1: the last).
_Rule = Callable[[int], dt.date]


def _fixed(month: int, day: int) -> _Rule:
    return lambda year: dt.date(year, month, day)


def _nth_weekday(month: int, weekday: int, n: int) -> _Rule:
    def rule(year: int) -> dt.date:
        if n > 0:
            first = dt.date(year, month, 1)
            return first + dt.timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
        last = (dt.date(year + (month == 12), month % 12 + 1, 1) - dt.timedelta(days=1))
        return last - dt.timedelta(days=(last.weekday() - weekday) % 7)

    return rule


#: Longest names first, so "christmas eve" is not read as "christmas".
_NAMED: tuple[tuple[str, _Rule], ...] = (
    (r"christmas eve", _fixed(12, 24)),
    (r"(christmas|xmas)( day)?", _fixed(12, 25)),
    (r"new year('| )?s eve", _fixed(12, 31)),
    (r"new year('| )?s( day)?", _fixed(1, 1)),
    (r"(independence day|(the )?fourth of july|july fourth)", _fixed(7, 4)),
    (r"veterans'? day", _fixed(11, 11)),
    (r"halloween", _fixed(10, 31)),
    (r"valentine'?s( day)?", _fixed(2, 14)),
    (r"thanksgiving( day)?", _nth_weekday(11, 3, 4)),
    (r"black friday", lambda year: _nth_weekday(11, 3, 4)(year) + dt.timedelta(days=1)),
    (r"labou?r day", _nth_weekday(9, 0, 1)),
    (r"memorial day", _nth_weekday(5, 0, -1)),
    (r"(mlk|martin luther king( jr)?) day", _nth_weekday(1, 0, 3)),
    (r"presidents'? day", _nth_weekday(2, 0, 3)),
    (r"columbus day", _nth_weekday(10, 0, 2)),
)
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_PATTERNS = tuple(
    (re.compile(rf"\b(the )?((day|{'|'.join(_WEEKDAYS)}) (right )?(before|after) )?{name}\b"),
     rule)
    for name, rule in _NAMED
)


def _shifted(day: dt.date, unit: str | None, direction: str | None) -> dt.date:
    """The holiday itself, the day before/after it, or the weekday before/after it."""
    if direction is None:
        return day
    step = 1 if direction == "after" else -1
    if unit == "day":
        return day + dt.timedelta(days=step)
    target = _WEEKDAYS.index(unit or "")
    shifted = day + dt.timedelta(days=step)
    while shifted.weekday() != target:
        shifted += dt.timedelta(days=step)
    return shifted


def named_day(words: str, today: dt.date) -> dt.date | None:
    """The day a holiday name in `words` stands for, next on or after `today`, else None."""
    for pattern, rule in _PATTERNS:
        found = pattern.search(words)
        if found is None:
            continue
        for year in (today.year, today.year + 1):
            day = _shifted(rule(year), found.group(3), found.group(5))
            if day >= today:
                return day
    return None
