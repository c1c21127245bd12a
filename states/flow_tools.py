"""The `call_tool` behaviour: the flow itself runs a tool, no brain involved.

    enter: [{call_tool: {name: check_appointment, args: {phone: "{caller}"}}}]
    on:
      tool.done: {to: told, do: [{set: {next_visit: "{event.result.appointments}"}}]}
      tool.failed: {to: escalating}

Arguments are literals or templates (`{vars.member_id}`, `{caller}`, `{business.name}`);
the result comes back as `tool.done` (fields under `event.result`) or `tool.failed`.
"""

from __future__ import annotations

from typing import Any

from engine.effect import Effect
from engine.ports import ToolCall
from flows.signatures import ArgKind, StepContext, action
from flows.templates import resolve
from states.conversation import RunTool
from states.variables import template_values


@action("call_tool", ArgKind.TOOL_CALL)
def call_tool(ctx: StepContext, spec: Any) -> list[Effect]:
    """Run a named tool with arguments from variables; branch on tool.done / tool.failed."""
    values = template_values(ctx)
    args = {str(k): resolve(v, values) for k, v in (spec.get("args") or {}).items()}
    name = str(spec["name"])
    return [RunTool(ToolCall(name, args, f"flow:{name}"), from_flow=True)]
