"""Business calendar: opening hours, holidays and the slot grid from `settings.business`.

`validate_business_settings` lists problems in the plain dict, each "path: problem" with the
path relative to the section (e.g. "hours.thu: ..."), for the flows linter to locate.
`BusinessCalendar.from_settings` builds the calendar, which answers whether a start time is
bookable and which free slots are nearest to a requested one. The clock (`now`) is always
passed in. Pure code: touches no storage, network or clock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
KNOWN_KEYS = ("name", "timezone", "hours", "holidays", "slot_minutes", "booking_days")
_HHMM = r"([01][0-9]|2[0-3]):([0-5][0-9])"
_RANGE = re.compile(rf"^{_HHMM}-{_HHMM}$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
MIN_SLOT, MAX_SLOT = 5, 480
BOOKING_DAYS = 365  # default booking horizon: appointments start at most this many days ahead
MAX_BOOKING_DAYS = 3 * 366


class BusinessSettingsError(ValueError):
    """`settings.business` is unusable; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid business settings: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class OpeningHours:
    opens: dt.time
    closes: dt.time


@dataclass(frozen=True)
class SlotCheck:
    """Whether a start time is bookable; `reason` is a short code when it is not."""

    ok: bool
    reason: str | None = None
    message: str = ""


def _parse_range(value: Any) -> OpeningHours | str | None:
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


def _parse_day(value: Any) -> dt.date | None:
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


def _minutes(t: dt.time) -> int:
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
            if _parse_day(day) is None:
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
        parsed = _parse_range(value)
        if isinstance(parsed, str):
            problems.append(f"hours.{day}: {parsed}")
        elif parsed is not None:
            any_open = True
            span = _minutes(parsed.closes) - _minutes(parsed.opens)
            if slot is not None and span < slot:
                problems.append(
                    f"hours.{day}: {value!r} is shorter than one {slot}-minute slot"
                )
    if not problems and not any_open:
        problems.append("hours: the business is closed every day")
    return problems


class BusinessCalendar:
    """When appointments can start. All datetimes in and out are timezone-aware."""

    def __init__(
        self,
        *,
        name: str,
        timezone: ZoneInfo,
        hours: Mapping[int, OpeningHours | None],
        holidays: Collection[dt.date] = (),
        slot_minutes: int = 30,
        booking_days: int = BOOKING_DAYS,
    ) -> None:
        self.name = name
        self.timezone = timezone
        self.hours = {day: hours.get(day) for day in range(7)}
        self.holidays = frozenset(holidays)
        self.slot_minutes = slot_minutes
        self.booking_days = booking_days

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> BusinessCalendar:
        """Build from the `settings.business` dict; raises `BusinessSettingsError`."""
        problems = validate_business_settings(settings)
        if problems:
            raise BusinessSettingsError(problems)
        hours: dict[int, OpeningHours | None] = {}
        for day, value in settings["hours"].items():
            parsed = _parse_range(value)
            assert not isinstance(parsed, str)
            hours[WEEKDAYS.index(day)] = parsed
        holidays = [_parse_day(d) for d in settings.get("holidays") or []]
        return cls(
            name=settings["name"].strip(),
            timezone=ZoneInfo(settings["timezone"]),
            hours=hours,
            holidays=[d for d in holidays if d is not None],
            slot_minutes=settings["slot_minutes"],
            booking_days=settings.get("booking_days", BOOKING_DAYS),
        )

    @property
    def slot_length(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.slot_minutes)

    def local(self, day: dt.date, at: dt.time) -> dt.datetime:
        """The aware local datetime for a wall-clock time; ValueError if DST skips it."""
        naive = dt.datetime.combine(day, at.replace(tzinfo=None))
        aware = naive.replace(tzinfo=self.timezone)
        if aware.astimezone(dt.UTC).astimezone(self.timezone).replace(tzinfo=None) != naive:
            raise ValueError(f"{naive:%Y-%m-%d %H:%M} does not exist in {self.timezone.key}")
        return aware

    def to_local(self, moment: dt.datetime) -> dt.datetime:
        if moment.tzinfo is None:
            raise ValueError("datetimes given to the calendar must be timezone-aware")
        return moment.astimezone(self.timezone)

    def last_bookable_day(self, *, now: dt.datetime) -> dt.date:
        """The booking horizon: the last local day an appointment may start on."""
        return self.to_local(now).date() + dt.timedelta(days=self.booking_days)

    def check_day(self, day: dt.date, *, now: dt.datetime) -> SlotCheck:
        """Is the local `day` within the booking window (today to the horizon)? Pure date
        arithmetic, so it is safe for any date, even 0001-01-01 or 9999-12-31."""
        if day < self.to_local(now).date():
            return SlotCheck(False, "past", "That date has already passed.")
        last = self.last_bookable_day(now=now)
        if day > last:
            return SlotCheck(
                False, "too_far",
                f"Appointments can be booked up to {self.booking_days} days ahead, so the "
                f"latest date is {last:%A}, {last:%B} {last.day}, {last.year}.",
            )
        return SlotCheck(True)

    def check(self, start: dt.datetime, *, now: dt.datetime) -> SlotCheck:
        """Is `start` a bookable slot start at time `now`?"""
        local = self.to_local(start)
        day = local.date()
        weekday = _DAY_NAMES[day.weekday()]
        if start <= now:
            return SlotCheck(False, "past", "That time has already passed.")
        within = self.check_day(day, now=now)
        if not within.ok:
            return within
        if day in self.holidays:
            return SlotCheck(False, "holiday", f"{self.name} is closed on {day} (holiday).")
        hours = self.hours[day.weekday()]
        if hours is None:
            return SlotCheck(False, "closed_day", f"{self.name} is closed on {weekday}s.")
        at = _minutes(local.time())
        open_text = f"{hours.opens:%H:%M}-{hours.closes:%H:%M}"
        if at < _minutes(hours.opens) or at >= _minutes(hours.closes):
            return SlotCheck(
                False, "outside_hours", f"On {weekday}s {self.name} is open {open_text}."
            )
        if local.second or local.microsecond or (at - _minutes(hours.opens)) % self.slot_minutes:
            return SlotCheck(
                False,
                "misaligned",
                f"Appointments start every {self.slot_minutes} minutes from "
                f"{hours.opens:%H:%M}.",
            )
        if at + self.slot_minutes > _minutes(hours.closes):
            last = self._day_slots(day)[-1]
            return SlotCheck(
                False, "too_late", f"The last appointment on {weekday}s starts at {last:%H:%M}."
            )
        return SlotCheck(True)

    def is_bookable(self, start: dt.datetime, *, now: dt.datetime) -> bool:
        return self.check(start, now=now).ok

    def _day_slots(self, day: dt.date) -> list[dt.datetime]:
        hours = self.hours[day.weekday()]
        if hours is None or day in self.holidays:
            return []
        out = []
        at = _minutes(hours.opens)
        while at + self.slot_minutes <= _minutes(hours.closes):
            with contextlib.suppress(ValueError):  # a time skipped by a DST change
                out.append(self.local(day, dt.time(at // 60, at % 60)))
            at += self.slot_minutes
        return out

    def slots_on(self, day: dt.date, *, now: dt.datetime) -> list[dt.datetime]:
        """Bookable slot starts on a local `day` (none on holidays and closed days)."""
        return [s for s in self._day_slots(day) if s > now]

    def nearest_free_slots(
        self,
        requested: dt.datetime,
        *,
        now: dt.datetime,
        taken: Collection[dt.datetime] = (),
        limit: int = 3,
        search_days: int = 14,
    ) -> list[dt.datetime]:
        """Up to `limit` bookable, untaken starts closest in time to `requested`, in order."""
        center = self.to_local(requested)
        taken_set = set(taken)
        candidates = [
            slot
            for offset in range(-search_days, search_days + 1)
            for slot in self.slots_on(center.date() + dt.timedelta(days=offset), now=now)
            if slot not in taken_set
        ]
        candidates.sort(key=lambda s: (abs(s - requested), s < requested))
        return sorted(candidates[:limit])

    def describe(self, moment: dt.datetime) -> str:
        """Speakable local time: 'Tuesday, December 1 at 9:30 AM'."""
        local = self.to_local(moment)
        hour = local.hour % 12 or 12
        half = "AM" if local.hour < 12 else "PM"
        return f"{local:%A}, {local:%B} {local.day} at {hour}:{local.minute:02d} {half}"

    def slot_info(self, moment: dt.datetime) -> dict[str, str]:
        """JSON-able description of a slot for the LLM."""
        local = self.to_local(moment)
        return {
            "date": local.date().isoformat(),
            "time": f"{local:%H:%M}",
            "spoken": self.describe(local),
        }
