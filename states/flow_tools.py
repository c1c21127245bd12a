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

from engine.effects import Effect, RunTool
from flows.templates import resolve
from states.registry import ArgKind, StepContext, action
from states.variables import template_values


@action("call_tool", ArgKind.TOOL_CALL)
def call_tool(ctx: StepContext, spec: Any) -> list[Effect]:
    """Run a named tool with arguments from variables; branch on tool.done / tool.failed."""
    values = template_values(ctx)
    args = {str(k): resolve(v, values) for k, v in (spec.get("args") or {}).items()}
    return [RunTool(name=str(spec["name"]), args=args, call_id=f"flow:{spec['name']}",
                    from_flow=True)]
