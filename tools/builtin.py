"""The built-in tool set and `build_registry`, which adds a flow's `http_tools` to it.

Touches nothing itself; the tools it lists touch the storage (or the network for HTTP tools).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from tools.appointments import book_appointment, cancel_appointment, check_appointment
from tools.escalation import escalate_to_human
from tools.http_tools import register_http_tools
from tools.registry import FunctionTool, ToolRegistry
from tools.rescheduling import check_availability, reschedule_appointment

BUILTIN_TOOLS: tuple[FunctionTool, ...] = (
    book_appointment,
    check_appointment,
    cancel_appointment,
    escalate_to_human,
    reschedule_appointment,
    check_availability,
)
BUILTIN_TOOL_NAMES = frozenset(t.name for t in BUILTIN_TOOLS)


def build_registry(http_tools: Iterable[Mapping[str, Any]] | None = None) -> ToolRegistry:
    """A fresh registry with the built-in tools plus the flow's `http_tools` entries.

    Raises `tools.http_tools.HttpToolConfigError` for a bad entry and `ValueError` when an
    HTTP tool reuses a built-in name.
    """
    registry = ToolRegistry(BUILTIN_TOOLS)
    register_http_tools(registry, http_tools)
    return registry
