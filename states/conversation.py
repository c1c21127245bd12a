"""Behaviours that drive the conversation: ask the brain for a reply, run the tool it chose."""

from __future__ import annotations

from typing import Any

from engine.effects import Effect, Respond, RunTool
from states.registry import StepContext, action


@action("respond")
def respond(ctx: StepContext, _: Any) -> list[Effect]:
    """Ask the brain for the next reply to what the caller said."""
    return [Respond()]


@action("run_tool")
def run_tool(ctx: StepContext, _: Any) -> list[Effect]:
    """Run the tool named in the `llm.tool_call` event that led here."""
    args = ctx.data.get("args") or {}
    return [RunTool(name=str(ctx.data.get("name", "")), args=dict(args),
                    call_id=str(ctx.data.get("id", "")))]
