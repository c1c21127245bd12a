"""Run one tool call from the brain: look the tool up, validate the arguments against its JSON
schema, call it under a timeout, and always come back with a `ToolResult` (never raise).

Sync tools run in a worker thread (`asyncio.to_thread`) so DB work never blocks the event
loop. A timeout cannot stop a thread that is already writing, so a `timeout` result says the
effect is unknown; the booking tool is idempotent for the same caller, so a retry is safe.
Cancellation of the caller (e.g. the call hung up) propagates. Logs carry tool names and
error codes only, never arguments. Touches nothing but what the tool itself touches.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
from typing import Any

from tools.context import ToolContext
from tools.registry import Tool, ToolRegistry
from tools.result import ToolError, ToolFailure, ToolResult
from tools.validation import validate_arguments

logger = logging.getLogger(__name__)
DEFAULT_TIMEOUT = 10.0
def _parse_args(raw: Any) -> dict[str, Any] | ToolFailure:
    if raw is None or raw == "":
        return {}
    if isinstance(raw, (str, bytes)):
        try:
            raw = json.loads(raw)
        except ValueError as exc:
            return ToolFailure("invalid_arguments", f"arguments are not valid JSON ({exc})")
    if not isinstance(raw, dict):
        return ToolFailure("invalid_arguments", "arguments must be a JSON object")
    return raw


def _jsonable(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    raise TypeError(f"{type(value).__name__} is not JSON-able")


async def run_tool(
    name: str,
    args: Any,
    *,
    timeout: float | None = None,
    registry: ToolRegistry,
    context: ToolContext | None = None,
) -> ToolResult:
    """Run tool `name` with `args` (a dict or a JSON string). Never raises, except on cancel.

    `timeout` (seconds) defaults to the tool's own, else `DEFAULT_TIMEOUT`.
    """
    tool: Tool | None = registry.get(name)
    if tool is None:
        return ToolResult.failure(
            "unknown_tool", f"there is no tool named {name!r}; available: {registry.names()}"
        )
    parsed = _parse_args(args)
    if isinstance(parsed, ToolFailure):
        return ToolResult(ok=False, error=parsed)
    problem = validate_arguments(tool.parameters, parsed)
    if problem is not None:
        logger.info("tool %s: invalid arguments (%s)", name, problem.field)
        return ToolResult(ok=False, error=problem)
    limit = timeout if timeout is not None else (tool.timeout or DEFAULT_TIMEOUT)
    try:
        async with asyncio.timeout(limit):
            data = await tool.invoke(parsed, context)
        data = json.loads(json.dumps(data, default=_jsonable))
    except ToolError as exc:
        logger.info("tool %s: %s", name, exc.code)
        return ToolResult(ok=False, error=exc.to_failure())
    except TimeoutError:
        logger.warning("tool %s: timed out after %ss", name, limit)
        return ToolResult.failure(
            "timeout",
            f"{name} did not finish within {limit:g}s; whether it took effect is unknown, "
            "so check before retrying",
        )
    except Exception:
        logger.exception("tool %s failed unexpectedly", name)
        return ToolResult.failure("internal_error", f"{name} failed unexpectedly")
    return ToolResult.success(data)


class ToolRunner:
    """A registry and one call's context bound together: `await runner.run(name, args)`."""

    def __init__(
        self,
        registry: ToolRegistry,
        context: ToolContext | None = None,
        *,
        default_timeout: float | None = None,
    ) -> None:
        self.registry = registry
        self.context = context
        self.default_timeout = default_timeout

    async def run(self, name: str, args: Any, *, timeout: float | None = None) -> ToolResult:
        return await run_tool(
            name,
            args,
            timeout=timeout if timeout is not None else self.default_timeout,
            registry=self.registry,
            context=self.context,
        )
