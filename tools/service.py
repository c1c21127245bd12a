"""`ToolService`: the tools side of the engine's `Tools` port (`engine.ports.Tools`).

It owns one registry, one storage and the business calendar, keeps a `ToolContext` per live
call (caller id from `call.started`), runs tools through `tools.runner.run_tool` and turns
each `ToolResult` into the engine's `ToolOutcome`: answers the brain can handle with the
caller (including refusals such as a taken slot) are ok outcomes, system failures (timeout,
outage, misconfiguration, bug) are failed ones. Both carry `ToolResult.to_llm()` as `result`.
Touches what the tools touch: the database and the HTTP tools' services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from engine.ports import ToolOutcome
from tools.builtin import build_registry
from tools.calendar import BusinessCalendar
from tools.context import ToolContext
from tools.registry import ToolRegistry
from tools.result import ToolResult
from tools.runner import run_tool
from tools.storage import Storage, utc_now


def to_outcome(result: ToolResult) -> ToolOutcome:
    """The engine's view of a result: failed only when the system failed."""
    if not result.system_failure:
        return ToolOutcome(ok=True, result=result.to_llm())
    assert result.error is not None
    return ToolOutcome(
        ok=False, result=result.to_llm(), error=f"{result.error.code}: {result.error.message}"
    )


class ToolService:
    """Implements `engine.ports.Tools.run(name, args, call_id)` for real calls."""

    def __init__(
        self,
        registry: ToolRegistry,
        storage: Storage,
        calendar: BusinessCalendar,
        *,
        clock: Callable[[], dt.datetime] = utc_now,
        default_timeout: float | None = None,
    ) -> None:
        self.registry = registry
        self.storage = storage
        self.calendar = calendar
        self.clock = clock
        self.default_timeout = default_timeout
        self._contexts: dict[str, ToolContext] = {}

    @classmethod
    def from_settings(
        cls,
        business: Mapping[str, Any],
        http_tools: Iterable[Mapping[str, Any]] | None = None,
        *,
        database_url: str | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
    ) -> ToolService:
        """Build from flows.yaml's `settings.business` and `http_tools` (URL from env if None)."""
        return cls(
            build_registry(http_tools),
            Storage(database_url),
            BusinessCalendar.from_settings(business),
            clock=clock,
        )

    def start_call(self, call_id: str, caller_phone: str | None) -> ToolContext:
        """Remember a call's caller id (from `call.started`); returns its context."""
        context = ToolContext(call_id, caller_phone or None, self.calendar, self.storage,
                              self.clock)
        self._contexts[call_id] = context
        return context

    def end_call(self, call_id: str) -> None:
        """Forget a finished call (nothing is kept per call after this)."""
        self._contexts.pop(call_id, None)

    def context_for(self, call_id: str) -> ToolContext:
        """The call's context; an unknown call gets one without caller id (lookups refused)."""
        known = self._contexts.get(call_id)
        if known is not None:
            return known
        return ToolContext(call_id, None, self.calendar, self.storage, self.clock)

    @property
    def live_calls(self) -> int:
        return len(self._contexts)

    async def run_result(
        self, name: str, args: Any, call_id: str, *, timeout: float | None = None
    ) -> ToolResult:
        """Run a tool for a call and return the full `ToolResult`."""
        return await run_tool(
            name,
            args,
            timeout=timeout if timeout is not None else self.default_timeout,
            registry=self.registry,
            context=self.context_for(call_id),
        )

    async def run(self, name: str, args: dict[str, Any], call_id: str) -> ToolOutcome:
        """The `engine.ports.Tools` method: never raises except on cancellation."""
        return to_outcome(await self.run_result(name, args, call_id))

    def anthropic_schemas(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        return self.registry.anthropic_schemas(names)

    def openai_schemas(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        return self.registry.openai_schemas(names)

    def close(self) -> None:
        self._contexts.clear()
        self.storage.close()
