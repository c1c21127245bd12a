"""Business calendar: settings validation, bookable starts, nearest free slots."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
from tools_testkit import BUSINESS, NOW, NY

from tools.calendar import BusinessCalendar, BusinessSettingsError, validate_business_settings


@pytest.fixture
def cal() -> BusinessCalendar:
    return BusinessCalendar.from_settings(BUSINESS)


def at(day: str, hhmm: str) -> dt.datetime:
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time.fromisoformat(hhmm), NY)


def test_example_settings_are_valid() -> None:
    assert validate_business_settings(BUSINESS) == []


def test_yaml_date_objects_are_accepted_for_holidays() -> None:
    settings = {**BUSINESS, "holidays": [dt.date(2026, 12, 24)], "name": "X"}
    assert BusinessCalendar.from_settings(settings).holidays == {dt.date(2026, 12, 24)}


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"hours": {"mon": "8:00-17:00"}}, "hours.mon: '8:00-17:00' is not a time range"),
        ({"hours": {"mon": "17:00-08:00"}}, "hours.mon: '17:00-08:00' closes before"),
        ({"hours": {"mon": "08:00-25:00"}}, "hours.mon: '08:00-25:00' is not a time"),
        ({"hours": {"mon": 480}}, "hours.mon: must be a string"),
        ({"hours": {"thur": "08:00-17:00"}}, "hours.thur: unknown weekday (did you mean 'thu'?)"),
        ({"hours": {"mon": "08:00-08:20"}}, "shorter than one 30-minute slot"),
        ({"hours": {"mon": "closed"}}, "hours: the business is closed every day"),
        ({"timezone": "Mars/Olympus"}, "timezone: 'Mars/Olympus' is not an IANA"),
        ({"slot_minutes": 0}, "slot_minutes: must be a whole number"),
        ({"slot_minutes": "30"}, "slot_minutes: must be a whole number"),
        ({"holidays": ["2026-02-30"]}, "holidays[0]: '2026-02-30' is not a valid date"),
        ({"holidays": "2026-12-25"}, "holidays: must be a list"),
        ({"name": ""}, "name: must be a non-empty string"),
        ({"holiday": []}, "holiday: unknown setting (did you mean 'holidays'?)"),
    ],
)
def test_validation_problems_name_the_path(change: dict, expected: str) -> None:
    settings = {**copy.deepcopy(BUSINESS), **change}
    problems = validate_business_settings(settings)
    assert any(p.startswith(expected) or expected in p for p in problems), problems
    with pytest.raises(BusinessSettingsError) as info:
        BusinessCalendar.from_settings(settings)
    assert info.value.problems == problems


def test_missing_keys_and_wrong_shape() -> None:
    assert validate_business_settings([]) == [
        "must be a mapping with name, timezone, hours and slot_minutes"
    ]
    problems = validate_business_settings({"name": "X"})
    assert problems == ["timezone: missing", "hours: missing", "slot_minutes: missing"]


@pytest.mark.parametrize(
    ("start", "reason"),
    [
        (at("2026-12-02", "10:00"), None),  # Wednesday, open
        (at("2026-12-01", "09:30"), None),  # later today
        (at("2026-12-01", "09:00"), "past"),  # exactly now
        (at("2026-11-30", "10:00"), "past"),
        (at("2026-12-06", "10:00"), "closed_day"),  # Sunday
        (at("2026-12-24", "10:00"), "holiday"),
        (at("2026-12-02", "07:30"), "outside_hours"),
        (at("2026-12-02", "17:00"), "outside_hours"),
        (at("2026-12-02", "16:30"), None),  # last slot ends at closing
        (at("2026-12-03", "18:30"), None),  # Thursday open late
        (at("2026-12-04", "15:00"), "outside_hours"),  # Friday closes at 15:00
        (at("2026-12-05", "08:30"), "outside_hours"),  # Saturday opens at 09:00
        (at("2026-12-02", "09:15"), "misaligned"),
        (at("2026-12-02", "09:00").replace(second=30), "misaligned"),
    ],
)
def test_check_rules(cal: BusinessCalendar, start: dt.datetime, reason: str | None) -> None:
    result = cal.check(start, now=NOW)
    assert result.ok == (reason is None)
    assert result.reason == reason
    assert cal.is_bookable(start, now=NOW) == (reason is None)


def test_slot_must_fit_before_closing() -> None:
    cal = BusinessCalendar.from_settings({**BUSINESS, "slot_minutes": 40})
    assert cal.check(at("2026-12-02", "16:00"), now=NOW).ok
    result = cal.check(at("2026-12-02", "16:40"), now=NOW)
    assert result.reason == "too_late"
    assert "starts at 16:00" in result.message


def test_check_works_from_any_timezone(cal: BusinessCalendar) -> None:
    utc = at("2026-12-02", "10:00").astimezone(dt.UTC)
    assert cal.check(utc, now=NOW).ok
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.check(dt.datetime(2026, 12, 2, 10), now=NOW)


def test_dst_gap_does_not_exist(cal: BusinessCalendar) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        cal.local(dt.date(2027, 3, 14), dt.time(2, 30))
    assert cal.local(dt.date(2027, 3, 14), dt.time(3, 30)).utcoffset() == dt.timedelta(hours=-4)


def test_slots_on_a_day(cal: BusinessCalendar) -> None:
    saturday = cal.slots_on(dt.date(2026, 12, 5), now=NOW)
    assert [f"{s:%H:%M}" for s in saturday] == [
        "09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00", "12:30"
    ]
    assert cal.slots_on(dt.date(2026, 12, 6), now=NOW) == []
    assert cal.slots_on(dt.date(2026, 12, 25), now=NOW) == []
    today = cal.slots_on(dt.date(2026, 12, 1), now=NOW)
    assert f"{today[0]:%H:%M}" == "09:30"


def test_nearest_free_slots_skip_taken(cal: BusinessCalendar) -> None:
    taken = {at("2026-12-02", "10:00"), at("2026-12-02", "10:30")}
    free = cal.nearest_free_slots(at("2026-12-02", "10:00"), now=NOW, taken=taken)
    assert [f"{s:%m-%d %H:%M}" for s in free] == ["12-02 09:00", "12-02 09:30", "12-02 11:00"]


def test_nearest_free_slots_cross_closed_days(cal: BusinessCalendar) -> None:
    free = cal.nearest_free_slots(at("2026-12-24", "10:00"), now=NOW)
    assert [f"{s:%m-%d %H:%M}" for s in free] == ["12-23 15:30", "12-23 16:00", "12-23 16:30"]


def test_nearest_free_slots_never_in_the_past(cal: BusinessCalendar) -> None:
    free = cal.nearest_free_slots(at("2026-11-30", "10:00"), now=NOW, limit=2)
    assert [f"{s:%m-%d %H:%M}" for s in free] == ["12-01 09:30", "12-01 10:00"]


def test_describe(cal: BusinessCalendar) -> None:
    assert cal.describe(at("2026-12-02", "13:30")) == "Wednesday, December 2 at 1:30 PM"
    assert cal.slot_info(at("2026-12-02", "00:00").astimezone(dt.UTC)) == {
        "date": "2026-12-02", "time": "00:00", "spoken": "Wednesday, December 2 at 12:00 AM"
    }
