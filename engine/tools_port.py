"""`CallTools`: the engine's `Tools` port for one call, over the `tools/` registry and runner.

It builds the call's `ToolContext` (caller id, business calendar, storage) so tools can only
act for the caller on the line. The brain gets `ToolResult.to_llm()` back. An answer the
brain can act on with the caller (a taken slot, bad arguments, nothing found) is a done tool
(`tool.done`); only a system failure (timeout, crash, unreachable system) fails it
(`tool.failed`), which the flow escalates.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from engine.ports import ToolOutcome
from tools.calendar import BusinessCalendar
from tools.context import ToolContext
from tools.registry import ToolRegistry
from tools.result import RECOVERABLE_CODES
from tools.runner import run_tool
from tools.storage import Storage


class CallTools:
    def __init__(self, registry: ToolRegistry, storage: Storage, calendar: BusinessCalendar,
                 call_id: str, caller: str | None,
                 clock: Callable[[], dt.datetime] | None = None):
        self.registry = registry
        self.context = ToolContext(call_id=call_id, caller_phone=caller or None,
                                   calendar=calendar, storage=storage,
                                   **({"clock": clock} if clock else {}))

    async def run(self, name: str, args: dict[str, Any], call_id: str) -> ToolOutcome:
        result = await run_tool(name, args, registry=self.registry, context=self.context)
        answer = result.to_llm()
        if result.ok or (result.error is not None and result.error.code in RECOVERABLE_CODES):
            return ToolOutcome(ok=True, result=answer)
        error = result.error
        detail = f"{error.code}: {error.message}" if error else "error"
        return ToolOutcome(ok=False, result=answer, error=detail)
