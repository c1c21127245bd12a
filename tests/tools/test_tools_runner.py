"""The runner: structured errors instead of exceptions, argument conversion, timeouts."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import threading

import pytest

from tools.registry import ToolRegistry, tool
from tools.result import ToolError, ToolResult
from tools.runner import ToolRunner, run_tool

calls: list[dict] = []


@tool
def add_days(day: dt.date, days: int = 1) -> dict:
    """Add days to a date.

    Args:
        day: Start day.
        days: How many days.
    """
    calls.append({"day": day, "days": days})
    return {"day": day + dt.timedelta(days=days), "weekday": (day.weekday() + days) % 7}


@tool
def refuse(reason: str) -> dict:
    """Always refuses."""
    raise ToolError("not_found", f"nothing for {reason}", field="reason")


@tool
def explode() -> dict:
    """Fails with an unexpected exception carrying a secret."""
    raise RuntimeError("password=hunter2")


release = threading.Event()


@tool
def hang() -> dict:
    """Blocks its worker thread until released."""
    release.wait(30)
    return {}


@tool
async def hang_async() -> dict:
    """Awaits forever."""
    await asyncio.Event().wait()
    return {}


@pytest.fixture
def reg() -> ToolRegistry:
    calls.clear()
    return ToolRegistry([add_days, refuse, explode, hang, hang_async])


def run(reg: ToolRegistry, name: str, args, **kw) -> ToolResult:
    return asyncio.run(run_tool(name, args, registry=reg, **kw))


def test_valid_call_converts_types_and_returns_json(reg: ToolRegistry) -> None:
    result = run(reg, "add_days", {"day": "2026-12-31", "days": 2})
    assert result.ok
    assert calls == [{"day": dt.date(2026, 12, 31), "days": 2}]
    assert result.to_llm() == {"ok": True, "data": {"day": "2027-01-02", "weekday": 5}}
    assert json.loads(result.to_json()) == result.to_llm()


def test_arguments_may_arrive_as_a_json_string(reg: ToolRegistry) -> None:
    assert run(reg, "add_days", '{"day": "2026-01-01"}').data["day"] == "2026-01-02"


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        ({}, "day", "missing required argument(s): day"),
        ({"day": "31/12/2026"}, "day", "is not a date like"),
        ({"day": "2026-02-30"}, "day", "is not a date like"),
        ({"day": "2026-01-01", "days": "two"}, "days", "expected integer"),
        ({"day": "2026-01-01", "extra": 1}, "extra", "unexpected argument(s) ['extra']"),
        ("{not json", None, "not valid JSON"),
        ([1, 2], None, "must be a JSON object"),
    ],
)
def test_bad_arguments_are_structured_errors(reg: ToolRegistry, args, field, fragment) -> None:
    result = run(reg, "add_days", args)
    assert not result.ok
    error = result.to_llm()["error"]
    assert error["code"] == "invalid_arguments"
    assert error.get("field") == field
    assert fragment in error["message"]
    assert calls == []  # the tool never ran


def test_several_problems_are_all_listed(reg: ToolRegistry) -> None:
    error = run(reg, "add_days", {"days": "x", "zzz": 1}).to_llm()["error"]
    assert len(error["problems"]) == 3


def test_unknown_tool(reg: ToolRegistry) -> None:
    error = run(reg, "fly", {}).to_llm()["error"]
    assert error["code"] == "unknown_tool"
    assert "'fly'" in error["message"] and "add_days" in error["message"]


def test_tool_error_becomes_structured_result(reg: ToolRegistry) -> None:
    assert run(reg, "refuse", {"reason": "x"}).to_llm() == {
        "ok": False,
        "error": {"code": "not_found", "message": "nothing for x", "field": "reason"},
    }


def test_unexpected_exception_is_contained_without_details(reg: ToolRegistry) -> None:
    result = run(reg, "explode", {})
    assert result.error is not None and result.error.code == "internal_error"
    assert "hunter2" not in result.to_json()


def test_sync_tool_timeout_returns_structured_error(reg: ToolRegistry) -> None:
    async def scenario() -> ToolResult:
        release.clear()
        try:
            return await run_tool("hang", {}, registry=reg, timeout=0.05)
        finally:
            release.set()  # let the abandoned worker thread end before the loop closes

    result = asyncio.run(scenario())
    assert result.error is not None and result.error.code == "timeout"
    assert "unknown" in result.error.message


def test_async_tool_timeout_via_runner_default(reg: ToolRegistry) -> None:
    runner = ToolRunner(reg, default_timeout=0.05)
    result = asyncio.run(runner.run("hang_async", {}))
    assert result.to_llm()["error"]["code"] == "timeout"


def test_runner_does_not_block_the_event_loop(reg: ToolRegistry) -> None:
    """While a sync tool blocks its thread, other coroutines keep running."""

    async def scenario() -> list[str]:
        order: list[str] = []
        release.clear()
        task = asyncio.create_task(run_tool("hang", {}, registry=reg, timeout=30))
        await asyncio.sleep(0)
        order.append("loop free")
        release.set()
        result = await task
        order.append("tool done" if result.ok else "tool failed")
        return order

    assert asyncio.run(scenario()) == ["loop free", "tool done"]


def test_tool_result_invariants() -> None:
    with pytest.raises(ValueError):
        ToolResult(ok=False)
    with pytest.raises(ValueError, match="unknown tool error code"):
        ToolError("whatever", "x")
