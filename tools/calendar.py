"""Business calendar: opening hours, holidays and the slot grid from `settings.business`.

The section's schema and validator belong to the flow language
(`flows.settings_business.validate_business_settings`); `BusinessCalendar.from_settings`
builds the calendar from the validated section, which answers whether a start time is
bookable and which free slots are nearest to a requested one. The clock (`now`) is always
passed in. Pure code: touches no storage, network or clock.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flows.settings_business import (
    BOOKING_DAYS,
    DAY_NAMES,
    KNOWN_KEYS,
    MAX_BOOKING_DAYS,
    MIN_SLOT,
    WEEKDAYS,
    OpeningHours,
    minutes,
    parse_day,
    parse_range,
    validate_business_settings,
)

__all__ = ["BOOKING_DAYS", "KNOWN_KEYS", "MAX_BOOKING_DAYS", "MIN_SLOT", "BusinessCalendar",
           "BusinessSettingsError", "OpeningHours", "SlotCheck", "validate_business_settings"]


class BusinessSettingsError(ValueError):
    """`settings.business` is unusable; `problems` lists every reason."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("invalid business settings: " + "; ".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class SlotCheck:
    """Whether a start time is bookable; `reason` is a short code when it is not."""

    ok: bool
    reason: str | None = None
    message: str = ""


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
            parsed = parse_range(value)
            assert not isinstance(parsed, str)
            hours[WEEKDAYS.index(day)] = parsed
        holidays = [parse_day(d) for d in settings.get("holidays") or []]
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
        weekday = DAY_NAMES[day.weekday()]
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
        at = minutes(local.time())
        open_text = f"{hours.opens:%H:%M}-{hours.closes:%H:%M}"
        if at < minutes(hours.opens) or at >= minutes(hours.closes):
            return SlotCheck(
                False, "outside_hours", f"On {weekday}s {self.name} is open {open_text}."
            )
        if local.second or local.microsecond or (at - minutes(hours.opens)) % self.slot_minutes:
            return SlotCheck(
                False,
                "misaligned",
                f"Appointments start every {self.slot_minutes} minutes from "
                f"{hours.opens:%H:%M}.",
            )
        if at + self.slot_minutes > minutes(hours.closes):
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
        at = minutes(hours.opens)
        while at + self.slot_minutes <= minutes(hours.closes):
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
