"""The tools offered to the LLM: the registry's tools plus the flow's own.

`end_call` and `transfer_to_human` are not run by the tool runner: the flow reacts to them
(goodbye, transfer), so they are described here, in both providers' schema shapes, for the
model to call. A registry tool of the same name wins. Touches nothing.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from tools.registry import ToolRegistry


@dataclass(frozen=True)
class FlowTool:
    name: str
    description: str
    parameters: dict[str, Any]


FLOW_TOOLS: tuple[FlowTool, ...] = (
    FlowTool(
        "end_call",
        "End the phone call. Use it only once the caller has nothing more to ask and is ready "
        "to hang up (they said goodbye, or that was all they needed). The system says goodbye "
        "and hangs up by itself, so do not say goodbye before calling this tool.",
        {"type": "object", "properties": {}},
    ),
    FlowTool(
        "transfer_to_human",
        "Transfer the call now to a member of the team, live. Use it when the caller asks to "
        "speak to a person, or needs help you cannot give and wants someone right away. The "
        "system tells the caller they are being connected, so do not announce it yourself. "
        "For a call back later instead, take a message with escalate_to_human when offered.",
        {
            "type": "object",
            "properties": {
                "reason": {
                    "type": "string",
                    "description": 'Short reason for the transfer, e.g. "billing question".',
                }
            },
        },
    ),
)
FLOW_TOOL_NAMES = frozenset(t.name for t in FLOW_TOOLS)


def _flow_tools(registry: ToolRegistry | None) -> list[FlowTool]:
    return [t for t in FLOW_TOOLS if registry is None or t.name not in registry]


def anthropic_tools(registry: ToolRegistry | None) -> list[dict[str, Any]]:
    """`[{"name", "description", "input_schema"}]`: the registry's tools, then the flow's."""
    schemas = registry.anthropic_schemas() if registry is not None else []
    for tool in _flow_tools(registry):
        schemas.append({"name": tool.name, "description": tool.description,
                        "input_schema": copy.deepcopy(tool.parameters)})
    return schemas


def openai_tools(registry: ToolRegistry | None) -> list[dict[str, Any]]:
    """`[{"type": "function", "function": {...}}]`: the registry's tools, then the flow's."""
    schemas = registry.openai_schemas() if registry is not None else []
    for tool in _flow_tools(registry):
        schemas.append({"type": "function", "function": {
            "name": tool.name, "description": tool.description,
            "parameters": copy.deepcopy(tool.parameters)}})
    return schemas
