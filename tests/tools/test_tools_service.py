"""`CallTools`, the engine's `Tools` port for one call: caller id and outcome mapping."""

from __future__ import annotations

import asyncio
import socket

import pytest
from tools_testkit import BUSINESS, CALLER, NOW, booking_args

from engine.ports import ToolOutcome
from engine.tools_port import CallTools
from tools.builtin import build_registry
from tools.calendar import BusinessCalendar
from tools.registry import ToolRegistry
from tools.storage import Storage


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def registry() -> ToolRegistry:
    http_tool = {
        "name": "check_insurance", "description": "Check a plan.",
        "parameters": {"type": "object", "properties": {"plan": {"type": "string"}}},
        "url": f"http://127.0.0.1:{_closed_port()}/x", "timeout": "1s",
    }
    return build_registry([http_tool])


@pytest.fixture
def storage(db_url: str) -> Storage:
    return Storage(db_url)


def call_tools(registry: ToolRegistry, storage: Storage, call_id: str = "CA1",
               caller: str | None = CALLER) -> CallTools:
    return CallTools(registry, storage, BusinessCalendar.from_settings(BUSINESS), call_id,
                     caller, clock=lambda: NOW)


def run(tools: CallTools, name: str, args: dict) -> ToolOutcome:
    return asyncio.run(tools.run(name, args, tools.context.call_id))


def test_success_and_refusals_are_ok_outcomes(registry: ToolRegistry, storage: Storage) -> None:
    mine = call_tools(registry, storage)
    booked = run(mine, "book_appointment", booking_args(CALLER))
    assert booked.ok and booked.result["ok"] and booked.error == ""
    other = call_tools(registry, storage, "CA2", "+15550000002")
    taken = run(other, "book_appointment", booking_args("+15550000002"))
    assert taken.ok  # the brain offers the alternatives; the flow need not escalate
    assert taken.result["error"]["code"] == "slot_unavailable"
    assert len(taken.result["error"]["alternatives"]) == 3
    assert storage.list_appointments()[0].call_id == "CA1"


def test_caller_id_comes_from_the_call(registry: ToolRegistry, storage: Storage) -> None:
    mine = call_tools(registry, storage)
    run(mine, "book_appointment", booking_args(CALLER))
    assert len(run(mine, "check_appointment", {}).result["data"]["appointments"]) == 1
    stranger = call_tools(registry, storage, "CA9", "+15550000009")
    refused = run(stranger, "check_appointment", {"phone": CALLER})
    assert refused.result["error"]["code"] == "forbidden"
    withheld = call_tools(registry, storage, "CA10", None)
    assert run(withheld, "check_appointment", {}).result["error"]["code"] == "forbidden"


def test_system_failures_are_failed_outcomes(registry: ToolRegistry, storage: Storage) -> None:
    outcome = run(call_tools(registry, storage), "check_insurance", {"plan": "gold"})
    assert not outcome.ok
    assert outcome.error.startswith("http_error: ")
    assert outcome.result["error"]["code"] == "http_error"


def test_engine_escalation_arguments_create_a_ticket(registry: ToolRegistry,
                                                     storage: Storage) -> None:
    """The engine's TakeMessage effect calls escalate_to_human with reason and summary."""
    tools = call_tools(registry, storage, "CA7")
    outcome = run(tools, "escalate_to_human", {"reason": "silence", "summary": "no words"})
    assert outcome.ok and outcome.result["data"]["ticket_id"] == 1
    assert storage.list_tickets()[0].call_id == "CA7"
