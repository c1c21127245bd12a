"""Saying things on the phone: dates ("Thursday, December 3rd at 5:30 PM"), times, lists
("a, b, or c"), counts and the last digits of a number. Pure functions; touch nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence

_COUNTS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def ordinal(n: int) -> str:
    """1 -> "1st", 2 -> "2nd", 11 -> "11th", 23 -> "23rd"."""
    suffix = "th" if 11 <= n % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def say_date(day: dt.date) -> str:
    """"Thursday, December 3rd"."""
    return f"{day:%A}, {day:%B} {ordinal(day.day)}"


def say_time(at: dt.time) -> str:
    """"5:30 PM", "9 AM", "noon"."""
    if at.hour == 12 and at.minute == 0:
        return "noon"
    hour = at.hour % 12 or 12
    half = "AM" if at.hour < 12 else "PM"
    return f"{hour} {half}" if at.minute == 0 else f"{hour}:{at.minute:02d} {half}"


def say_when(day: dt.date, at: dt.time) -> str:
    """"Thursday, December 3rd at 5:30 PM"."""
    return f"{say_date(day)} at {say_time(at)}"


def join(items: Sequence[str], word: str = "or") -> str:
    """"a", "a or b", "a, b, or c"."""
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    if len(items) == 2:
        return f"{items[0]} {word} {items[1]}"
    return ", ".join(items[:-1]) + f", {word} {items[-1]}"


def say_slots(slots: Sequence[tuple[dt.date, dt.time]]) -> str:
    """Several times, grouped by day: "Thursday, December 3rd at 5 PM or 6 PM, or Friday,
    December 4th at 8 AM"."""
    groups: list[tuple[dt.date, list[dt.time]]] = []
    for day, at in slots:
        if groups and groups[-1][0] == day:
            groups[-1][1].append(at)
        else:
            groups.append((day, [at]))
    parts = [f"{say_date(day)} at {join([say_time(t) for t in times])}" for day, times in groups]
    if len(parts) == 2 and any(len(times) > 1 for _, times in groups):
        return f"{parts[0]}, or {parts[1]}"  # the comma keeps the days apart
    return join(parts)


def count(n: int) -> str:
    """3 -> "three" (digits past ten)."""
    return _COUNTS[n] if 0 <= n < len(_COUNTS) else str(n)


def last_digits(phone: str, n: int = 4) -> str:
    """"+15551230001" -> "0 0 0 1" (read digit by digit)."""
    digits = [c for c in phone if c.isdigit()][-n:]
    return " ".join(digits)


_CLOCK = re.compile(r"\b(\d{1,2}):(\d{2})\s?([ap])\.?m\b\.?", re.IGNORECASE)


def speakable(text: str) -> str:
    """Clock times in a text as people say them: "8:00 am" -> "8 AM", "5:30 pm" -> "5:30 PM",
    "12:00 pm" -> "noon" (a voice reads "8:00 am" as "eight zero zero a m")."""

    def repl(m: re.Match[str]) -> str:
        hour, minute, half = int(m.group(1)), int(m.group(2)), m.group(3).lower()
        if not (1 <= hour <= 12 and 0 <= minute <= 59):
            return m.group(0)
        hour24 = hour % 12 + (12 if half == "p" else 0)
        return say_time(dt.time(hour24, minute))

    return _CLOCK.sub(repl, text)
