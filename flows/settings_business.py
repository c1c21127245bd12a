"""The `settings.business` section of flows.yaml: its schema and validator.

`validate_business_settings` lists the problems of the plain mapping, each "path: problem"
with the path relative to the section (e.g. "hours.thu: ..."), for `flows/settings.py` to
put on a line. The parsing helpers (`parse_range`, `parse_day`) are shared with the owner,
`tools.calendar.BusinessCalendar`, which builds the calendar from the validated section.
Pure code; imports nothing of ours.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
KNOWN_KEYS = ("name", "timezone", "hours", "holidays", "slot_minutes", "booking_days")
_HHMM = r"([01][0-9]|2[0-3]):([0-5][0-9])"
_RANGE = re.compile(rf"^{_HHMM}-{_HHMM}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MIN_SLOT, MAX_SLOT = 5, 480
BOOKING_DAYS = 365  # default booking horizon: appointments start at most this many days ahead
MAX_BOOKING_DAYS = 3 * 366



@dataclass(frozen=True)
class OpeningHours:
    opens: dt.time
    closes: dt.time


def parse_range(value: Any) -> OpeningHours | str | None:
    """OpeningHours, None for "closed", or a problem sentence."""
    if isinstance(value, str) and value.strip().lower() == "closed":
        return None
    if not isinstance(value, str):
        return f'must be a string like "08:00-17:00" or "closed" (quote it in YAML), got {value!r}'
    match = _RANGE.match(value.strip())
    if not match:
        return f'{value!r} is not a time range like "08:00-17:00" (24-hour HH:MM) or "closed"'
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    opens, closes = dt.time(h1, m1), dt.time(h2, m2)
    if closes <= opens:
        return f"{value!r} closes before it opens"
    return OpeningHours(opens, closes)


def parse_day(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return None
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and _DATE.match(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            return None
    return None


def _suggest(word: str, choices: tuple[str, ...]) -> str:
    close = difflib.get_close_matches(str(word), choices, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def validate_business_settings(settings: Any) -> list[str]:
    """Every problem in a `settings.business` dict as "path: problem" ([] if fine).

    Paths are relative to the section ("hours.thu", "holidays[2]"); messages avoid naming
    other keys so a linter can find the line from the key a message mentions.
    """
    if not isinstance(settings, Mapping):
        return ["must be a mapping with name, timezone, hours and slot_minutes"]
    problems = [f"{key}: unknown setting{_suggest(key, KNOWN_KEYS)}"
                for key in settings if key not in KNOWN_KEYS]
    for key in ("name", "timezone", "hours", "slot_minutes"):
        if key not in settings:
            problems.append(f"{key}: missing")
    name = settings.get("name")
    if "name" in settings and (not isinstance(name, str) or not name.strip()):
        problems.append("name: must be a non-empty string")
    tz = settings.get("timezone")
    if "timezone" in settings:
        try:
            if not isinstance(tz, str):
                raise ValueError
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(
                f"timezone: {tz!r} is not an IANA time zone like 'America/New_York'"
            )
    slot = settings.get("slot_minutes")
    slot_ok = isinstance(slot, int) and not isinstance(slot, bool) and MIN_SLOT <= slot <= MAX_SLOT
    if "slot_minutes" in settings and not slot_ok:
        problems.append(
            f"slot_minutes: must be a whole number of minutes from {MIN_SLOT} to "
            f"{MAX_SLOT}, got {slot!r}"
        )
    days = settings.get("booking_days", BOOKING_DAYS)
    if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= MAX_BOOKING_DAYS:
        problems.append(
            f"booking_days: must be a whole number of days from 1 to {MAX_BOOKING_DAYS}, "
            f"got {days!r}"
        )
    problems += _validate_hours(settings.get("hours"), slot if slot_ok else None, settings)
    holidays = settings.get("holidays") or []
    if not isinstance(holidays, list):
        problems.append('holidays: must be a list of dates like "2026-12-25"')
    else:
        for i, day in enumerate(holidays):
            if parse_day(day) is None:
                problems.append(
                    f"holidays[{i}]: {day!r} is not a valid date (YYYY-MM-DD)"
                )
    return problems


def _validate_hours(hours: Any, slot: int | None, settings: Mapping[str, Any]) -> list[str]:
    if "hours" not in settings:
        return []
    if not isinstance(hours, Mapping):
        return ["hours: must map weekdays (mon..sun) to 'HH:MM-HH:MM' or 'closed'"]
    problems: list[str] = []
    any_open = False
    for day, value in hours.items():
        if day not in WEEKDAYS:
            problems.append(
                f"hours.{day}: unknown weekday{_suggest(str(day), WEEKDAYS)} "
                f"(use {', '.join(WEEKDAYS)})"
            )
            continue
        parsed = parse_range(value)
        if isinstance(parsed, str):
            problems.append(f"hours.{day}: {parsed}")
        elif parsed is not None:
            any_open = True
            span = minutes(parsed.closes) - minutes(parsed.opens)
            if slot is not None and span < slot:
                problems.append(
                    f"hours.{day}: {value!r} is shorter than one {slot}-minute slot"
                )
    if not problems and not any_open:
        problems.append("hours: the business is closed every day")
    return problems
