"""`ToolService`, the engine's `Tools` port: per-call caller id and outcome mapping."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import pytest
from tools_testkit import BUSINESS, CALLER, NOW, booking_args

from engine.ports import ToolOutcome
from tools.service import ToolService


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def service(db_url: str) -> Iterator[ToolService]:
    http_tool = {
        "name": "check_insurance", "description": "Check a plan.",
        "parameters": {"type": "object", "properties": {"plan": {"type": "string"}}},
        "url": f"http://127.0.0.1:{_closed_port()}/x", "timeout": "1s",
    }
    svc = ToolService.from_settings(BUSINESS, [http_tool], database_url=db_url, clock=lambda: NOW)
    yield svc
    svc.close()


def run(service: ToolService, name: str, args: dict, call_id: str = "CA1") -> ToolOutcome:
    return asyncio.run(service.run(name, args, call_id))


def test_success_and_refusals_are_ok_outcomes(service: ToolService) -> None:
    service.start_call("CA1", CALLER)
    booked = run(service, "book_appointment", booking_args(CALLER))
    assert booked.ok and booked.result["ok"] and booked.error == ""
    taken = run(service, "book_appointment", booking_args("+15550000002"))
    assert taken.ok  # the brain offers the alternatives; the flow need not escalate
    assert taken.result["error"]["code"] == "slot_unavailable"
    assert len(taken.result["error"]["alternatives"]) == 3
    assert service.storage.list_appointments()[0].call_id == "CA1"


def test_caller_id_comes_from_the_call(service: ToolService) -> None:
    service.start_call("CA1", CALLER)
    run(service, "book_appointment", booking_args(CALLER))
    mine = run(service, "check_appointment", {})
    assert len(mine.result["data"]["appointments"]) == 1
    stranger = run(service, "check_appointment", {"phone": CALLER}, call_id="CA-unknown")
    assert stranger.result["error"]["code"] == "forbidden"
    assert service.live_calls == 1
    service.end_call("CA1")
    assert service.live_calls == 0
    assert run(service, "check_appointment", {}).result["error"]["code"] == "forbidden"


def test_system_failures_are_failed_outcomes(service: ToolService) -> None:
    outcome = run(service, "check_insurance", {"plan": "gold"})
    assert not outcome.ok
    assert outcome.error.startswith("http_error: ")
    assert outcome.result["error"]["code"] == "http_error"


def test_engine_escalation_arguments_create_a_ticket(service: ToolService) -> None:
    """The engine's TakeMessage effect calls escalate_to_human with reason and summary."""
    service.start_call("CA7", CALLER)
    outcome = run(service, "escalate_to_human", {"reason": "silence", "summary": "no words"}, "CA7")
    assert outcome.ok and outcome.result["data"]["ticket_id"] == 1
    assert service.storage.list_tickets()[0].call_id == "CA7"


def test_schemas_for_the_brain(service: ToolService) -> None:
    names = [s["name"] for s in service.anthropic_schemas()]
    assert names == [
        "book_appointment", "check_appointment", "cancel_appointment", "escalate_to_human",
        "check_insurance",
    ]
    assert service.openai_schemas(["check_insurance"])[0]["type"] == "function"
