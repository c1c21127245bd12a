"""Issue 15: rescheduling is one transaction (a refused new slot keeps the old appointment),
and a slot can be checked before the caller is asked to confirm it."""

from __future__ import annotations

import asyncio
from typing import Any

from tools_testkit import CALLER, booking_args, make_context

from tools.context import ToolContext
from tools.registry import ToolRegistry
from tools.runner import run_tool
from tools.storage import Storage


def call(reg: ToolRegistry, ctx: ToolContext, name: str, args: dict[str, Any]) -> dict:
    return asyncio.run(run_tool(name, args, registry=reg, context=ctx)).to_llm()


def book(reg: ToolRegistry, ctx: ToolContext, phone: str, date: str, time: str) -> dict:
    return call(reg, ctx, "book_appointment", booking_args(phone, date, time))


def _booked(storage: Storage) -> list[tuple[str, str, str]]:
    return [(a.start.isoformat(), a.phone, a.status) for a in storage.list_appointments()
            if a.status == "booked"]


def test_reschedule_books_the_new_slot_and_releases_the_old(registry, ctx, storage) -> None:
    assert book(registry, ctx, CALLER, "2026-12-02", "10:00")["ok"]
    out = call(registry, ctx, "reschedule_appointment", {
        "date": "2026-12-02", "time": "10:00", "new_date": "2026-12-03", "new_time": "15:30"})
    assert out["ok"], out
    assert out["data"]["date"] == "2026-12-03" and out["data"]["time"] == "15:30"
    assert out["data"]["old"]["status"] == "cancelled"
    assert _booked(storage) == [("2026-12-03T20:30:00+00:00", CALLER, "booked")]
    [new] = [a for a in storage.list_appointments() if a.status == "booked"]
    assert new.name == "Pat Doe" and new.reason == "cleaning"


def test_a_taken_new_slot_keeps_the_old_appointment(registry, ctx, storage) -> None:
    other = make_context(storage, "+15559990000", call_id="CA-other")
    assert book(registry, ctx, CALLER, "2026-12-02", "10:00")["ok"]
    assert call(registry, other, "book_appointment",
                booking_args("+15559990000", "2026-12-03", "15:30"))["ok"]
    out = call(registry, ctx, "reschedule_appointment", {
        "date": "2026-12-02", "time": "10:00", "new_date": "2026-12-03", "new_time": "15:30"})
    assert out["ok"] is False and out["error"]["code"] == "slot_unavailable"
    assert out["error"]["reason"] == "taken" and out["error"]["alternatives"]
    assert ("2026-12-02T15:00:00+00:00", CALLER, "booked") in _booked(storage)
    closed = call(registry, ctx, "reschedule_appointment", {
        "date": "2026-12-02", "time": "10:00", "new_date": "2026-12-06", "new_time": "10:00"})
    assert closed["ok"] is False and closed["error"]["reason"] == "closed_day"
    assert len(_booked(storage)) == 2


def test_only_the_callers_own_appointment_can_be_moved(registry, ctx, storage) -> None:
    other = make_context(storage, "+15559990000", call_id="CA-other")
    assert call(registry, other, "book_appointment",
                booking_args("+15559990000", "2026-12-02", "10:00"))["ok"]
    out = call(registry, ctx, "reschedule_appointment", {
        "date": "2026-12-02", "time": "10:00", "new_date": "2026-12-03", "new_time": "10:00"})
    assert out["ok"] is False and out["error"]["code"] == "not_found"
    withheld = make_context(storage, None)
    out = call(registry, withheld, "reschedule_appointment", {
        "date": "2026-12-02", "time": "10:00", "new_date": "2026-12-03", "new_time": "10:00"})
    assert out["error"]["code"] == "forbidden"


def test_check_availability_books_nothing(registry, ctx, storage) -> None:
    free = call(registry, ctx, "check_availability", {"date": "2026-12-03", "time": "15:30"})
    assert free["ok"] and free["data"]["free"] is True
    assert book(registry, ctx, CALLER, "2026-12-03", "15:30")["ok"]
    taken = call(registry, ctx, "check_availability", {"date": "2026-12-03", "time": "15:30"})
    assert taken["ok"] is False and taken["error"]["reason"] == "taken"
    first = taken["error"]["alternatives"][0]
    assert (first["date"], first["time"]) != ("2026-12-03", "15:30")
    assert len(storage.list_appointments()) == 1


def test_a_new_date_outside_the_booking_horizon_keeps_the_old_appointment(
        registry, ctx, storage) -> None:
    """Rescheduling applies booking's own date rules: year 1 is in the past (it used to
    reach datetime arithmetic unchecked) and year 9999 is beyond the horizon."""
    assert book(registry, ctx, CALLER, "2026-12-02", "10:00")["ok"]
    for new_date, reason in (("0001-01-02", "past"), ("9999-12-30", "too_far")):
        out = call(registry, ctx, "reschedule_appointment", {
            "date": "2026-12-02", "time": "10:00", "new_date": new_date, "new_time": "10:00"})
        assert out["ok"] is False and out["error"]["code"] == "slot_unavailable", out
        assert out["error"]["reason"] == reason, out
        checked = call(registry, ctx, "check_availability", {"date": new_date, "time": "10:00"})
        assert checked["ok"] is False and checked["error"]["reason"] == reason, checked
    assert _booked(storage) == [("2026-12-02T15:00:00+00:00", CALLER, "booked")]
