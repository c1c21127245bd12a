"""The tool set and `build_registry`, which adds a flow's `http_tools` to it.

`BUILTIN_TOOLS` are dialflow's own tools plus every tool a team's installed package adds
through the `dialflow.tools` entry point group (a `@tool` function, or a list of them):
flows.yaml and the brain name them exactly like dialflow's own. A plug-in tool that is not
a tool, or takes a name already used, is a `PluginError` at start-up, never a silent loss.
Touches nothing itself; the tools it lists touch the storage (or the network for HTTP tools).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flows.plugins import TOOLS, PluginError, load_group
from tools.appointments import book_appointment, cancel_appointment, check_appointment
from tools.escalation import escalate_to_human
from tools.http_tools import register_http_tools
from tools.registry import Tool, ToolRegistry
from tools.rescheduling import check_availability, reschedule_appointment

OWN_TOOLS: tuple[Tool, ...] = (
    book_appointment,
    check_appointment,
    cancel_appointment,
    escalate_to_human,
    reschedule_appointment,
    check_availability,
)


def installed_tools(own: Iterable[Tool] = OWN_TOOLS) -> tuple[Tool, ...]:
    """The tools of the `dialflow.tools` entry points, checked against `own` and each other."""
    taken = {t.name: "dialflow" for t in own}
    found: list[Tool] = []
    for point, loaded in load_group(TOOLS):
        for item in loaded if isinstance(loaded, list | tuple) else [loaded]:
            if not isinstance(item, Tool):
                raise PluginError(f"entry point {point!r} in {TOOLS} gave "
                                  f"{type(item).__name__}, not a tool: decorate the function "
                                  "with tools.registry.tool")
            if item.name in taken:
                raise PluginError(f"entry point {point!r} in {TOOLS}: tool {item.name!r} is "
                                  f"already given by {taken[item.name]}; rename it")
            taken[item.name] = f"entry point {point!r}"
            found.append(item)
    return tuple(found)


BUILTIN_TOOLS: tuple[Tool, ...] = OWN_TOOLS + installed_tools()
BUILTIN_TOOL_NAMES = frozenset(t.name for t in BUILTIN_TOOLS)


def build_registry(http_tools: Iterable[Mapping[str, Any]] | None = None) -> ToolRegistry:
    """A fresh registry with the built-in tools plus the flow's `http_tools` entries.

    Raises `tools.http_tools.HttpToolConfigError` for a bad entry and `ValueError` when an
    HTTP tool reuses a built-in name.
    """
    registry = ToolRegistry(BUILTIN_TOOLS)
    register_http_tools(registry, http_tools)
    return registry
