"""The built-in tools through the runner: booking rules, own-number lookups, escalation."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tools_testkit import CALLER, booking_args, make_context

from tools.context import ToolContext
from tools.registry import ToolRegistry
from tools.runner import run_tool
from tools.storage import Storage


def call(reg: ToolRegistry, ctx: ToolContext, name: str, args: dict[str, Any]) -> dict:
    return asyncio.run(run_tool(name, args, registry=reg, context=ctx)).to_llm()


def test_booking_succeeds_and_is_stored(registry, ctx, storage: Storage) -> None:
    out = call(registry, ctx, "book_appointment", booking_args("(555) 123-0001"))
    assert out["ok"], out
    data = out["data"]
    assert data["date"] == "2026-12-02" and data["time"] == "10:00"
    assert data["end_time"] == "10:30" and data["already_booked"] is False
    assert data["spoken"] == "Wednesday, December 2 at 10:00 AM"
    [appt] = storage.list_appointments()
    assert appt.id == data["appointment_id"]
    assert appt.phone == CALLER  # normalised to E.164
    assert appt.call_id == "CA-test" and appt.status == "booked"
    assert appt.timezone == "America/New_York"
    assert appt.start.isoformat() == "2026-12-02T15:00:00+00:00"


@pytest.mark.parametrize(
    ("date", "time", "reason", "field"),
    [
        ("2026-11-30", "10:00", "past", "date"),
        ("2026-12-06", "10:00", "closed_day", "date"),
        ("2026-12-25", "10:00", "holiday", "date"),
        ("2026-12-02", "18:00", "outside_hours", "time"),
        ("2026-12-02", "10:10", "misaligned", "time"),
    ],
)
def test_unbookable_times_offer_alternatives(
    registry, ctx, storage: Storage, date: str, time: str, reason: str, field: str
) -> None:
    out = call(registry, ctx, "book_appointment", booking_args(CALLER, date, time))
    assert out["ok"] is False
    error = out["error"]
    assert (error["code"], error["reason"], error["field"]) == ("slot_unavailable", reason, field)
    assert 1 <= len(error["alternatives"]) <= 3
    for alt in error["alternatives"]:
        assert set(alt) == {"date", "time", "spoken"}
        assert alt["spoken"] in error["message"]
    assert storage.list_appointments() == []


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"date": "12/02/2026"}, "date"),
        ({"time": "10am"}, "time"),
        ({"phone": "12345"}, "phone"),
        ({"phone": "+0123456789"}, "phone"),
        ({"name": "   "}, "name"),
        ({"reason": ""}, "reason"),
    ],
)
def test_bad_formats_are_invalid_arguments(registry, ctx, storage, change, field) -> None:
    out = call(registry, ctx, "book_appointment", {**booking_args(CALLER), **change})
    assert out["error"]["code"] == "invalid_arguments"
    assert out["error"]["field"] == field
    assert storage.list_appointments() == []


def test_taken_slot_offers_nearest_free_slots(registry, ctx, storage: Storage) -> None:
    assert call(registry, ctx, "book_appointment", booking_args("+15550000001"))["ok"]
    assert call(registry, ctx, "book_appointment", booking_args("+15550000002", time="10:30"))["ok"]
    out = call(registry, ctx, "book_appointment", booking_args("+15550000003"))
    error = out["error"]
    assert (error["code"], error["reason"]) == ("slot_unavailable", "taken")
    assert [a["time"] for a in error["alternatives"]] == ["09:00", "09:30", "11:00"]
    assert len(storage.list_appointments()) == 2


def test_same_caller_retry_is_idempotent(registry, ctx, storage: Storage) -> None:
    first = call(registry, ctx, "book_appointment", booking_args(CALLER))
    again = call(registry, ctx, "book_appointment", booking_args("555.123.0001"))
    assert again["ok"] and again["data"]["already_booked"] is True
    assert again["data"]["appointment_id"] == first["data"]["appointment_id"]
    other_name = call(registry, ctx, "book_appointment", {**booking_args(CALLER), "name": "Kim"})
    assert other_name["error"]["reason"] == "taken"
    assert len(storage.list_appointments()) == 1


def test_cancelled_slot_can_be_booked_again(registry, ctx, storage: Storage) -> None:
    assert call(registry, ctx, "book_appointment", booking_args(CALLER))["ok"]
    assert call(registry, ctx, "cancel_appointment", {})["ok"]
    other = make_context(storage, "+15550000009")
    assert call(registry, other, "book_appointment", booking_args("+15550000009"))["ok"]
    assert [a.status for a in storage.list_appointments()] == ["cancelled", "booked"]


def test_check_only_own_number(registry, ctx, storage: Storage) -> None:
    call(registry, ctx, "book_appointment", booking_args(CALLER, time="11:00"))
    call(registry, ctx, "book_appointment", booking_args("+15550009999", time="12:00"))
    mine = call(registry, ctx, "check_appointment", {"phone": "555-123-0001"})
    assert [a["time"] for a in mine["data"]["appointments"]] == ["11:00"]
    assert call(registry, ctx, "check_appointment", {}) == mine
    other = call(registry, ctx, "check_appointment", {"phone": "+15550009999"})
    assert other["ok"] is False
    assert (other["error"]["code"], other["error"]["field"]) == ("forbidden", "phone")
    assert "9999" not in other["error"]["message"]
    assert "0001" in other["error"]["message"]


def test_withheld_caller_id_cannot_look_up(registry, storage: Storage) -> None:
    anonymous = make_context(storage, caller="anonymous")
    for name, args in [("check_appointment", {"phone": CALLER}), ("cancel_appointment", {})]:
        assert call(registry, anonymous, name, args)["error"]["code"] == "forbidden"


def test_cancel_only_own_number(registry, ctx, storage: Storage) -> None:
    someone = make_context(storage, "+15550009999")
    call(registry, someone, "book_appointment", booking_args("+15550009999"))
    out = call(registry, ctx, "cancel_appointment", {"phone": "+15550009999"})
    assert out["error"]["code"] == "forbidden"
    assert call(registry, ctx, "cancel_appointment", {})["error"]["code"] == "not_found"
    assert [a.status for a in storage.list_appointments()] == ["booked"]


def test_cancel_needs_a_choice_between_several(registry, ctx, storage: Storage) -> None:
    for time in ("10:00", "14:00"):
        call(registry, ctx, "book_appointment", booking_args(CALLER, time=time))
    call(registry, ctx, "book_appointment", booking_args(CALLER, date="2026-12-03"))
    ambiguous = call(registry, ctx, "cancel_appointment", {"date": "2026-12-02"})
    assert ambiguous["error"]["code"] == "ambiguous"
    assert [a["time"] for a in ambiguous["error"]["appointments"]] == ["10:00", "14:00"]
    done = call(registry, ctx, "cancel_appointment", {"date": "2026-12-02", "time": "14:00"})
    assert done["ok"] and done["data"]["status"] == "cancelled"
    assert done["data"]["time"] == "14:00"
    left = call(registry, ctx, "check_appointment", {})["data"]["appointments"]
    assert [(a["date"], a["time"]) for a in left] == [
        ("2026-12-02", "10:00"), ("2026-12-03", "10:00")
    ]
    missing = call(registry, ctx, "cancel_appointment", {"date": "2026-12-09"})
    assert missing["error"]["code"] == "not_found"


def test_escalation_creates_ticket(registry, ctx, storage: Storage) -> None:
    out = call(registry, ctx, "escalate_to_human", {"reason": "billing", "summary": "Refund?"})
    assert out["ok"]
    [ticket] = storage.list_tickets()
    assert out["data"]["ticket_id"] == ticket.id
    assert "ending in 0001" in out["data"]["next_steps"]
    assert "within one business day" in out["data"]["next_steps"]
    assert (ticket.reason, ticket.summary, ticket.caller_phone, ticket.call_id, ticket.status) == (
        "billing", "Refund?", CALLER, "CA-test", "open"
    )


def test_escalation_without_caller_id_asks_for_a_number(registry, storage: Storage) -> None:
    anonymous = make_context(storage, caller=None)
    args = {"reason": "billing", "summary": "Refund?"}
    out = call(registry, anonymous, "escalate_to_human", args)
    assert (out["error"]["code"], out["error"]["field"]) == ("invalid_arguments", "callback_phone")
    assert storage.list_tickets() == []
    out = call(registry, anonymous, "escalate_to_human", {**args, "callback_phone": "2125550100"})
    assert "ending in 0100" in out["data"]["next_steps"]
    assert storage.list_tickets()[0].caller_phone == "+12125550100"
