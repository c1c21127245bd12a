"""The tool registry: `@tool` turns a typed, documented function into a `FunctionTool`, and a
`ToolRegistry` holds tools by name and exports their schemas for Anthropic and OpenAI.

A tool parameter typed `ToolContext` receives the call's context from the runner and is left
out of the schema, so the LLM can never supply it. Any object following the `Tool` interface
(e.g. `tools.http_tools.HttpTool`) can be registered too. Touches nothing outside memory.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, overload

from flows.http_tools_schema import TOOL_NAME
from tools.context import ToolContext
from tools.result import ToolError
from tools.schema import Converter, ToolDefinitionError, derive_signature


class Tool(ABC):
    """Anything the runner can call: a name, a description, a JSON schema and `invoke`."""

    name: str
    description: str
    parameters: dict[str, Any]
    timeout: float | None = None  # seconds; the runner's default applies when None

    @abstractmethod
    async def invoke(self, args: dict[str, Any], context: ToolContext | None) -> Any:
        """Run with already-validated `args`; return JSON-able data or raise `ToolError`."""

    def anthropic_schema(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "input_schema": copy.deepcopy(self.parameters),
        }

    def openai_schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": copy.deepcopy(self.parameters),
            },
        }


@dataclass(eq=False)
class FunctionTool(Tool):
    """A Python function as a tool. Sync functions run in a worker thread (they may do DB I/O)."""

    fn: Callable[..., Any]
    name: str
    description: str
    parameters: dict[str, Any]
    converters: dict[str, Converter] = field(default_factory=dict)
    context_param: str | None = None
    timeout: float | None = None

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.fn)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the underlying function directly (handy in tests)."""
        return self.fn(*args, **kwargs)

    async def invoke(self, args: dict[str, Any], context: ToolContext | None) -> Any:
        kwargs: dict[str, Any] = {}
        for key, value in args.items():
            conv = self.converters.get(key)
            try:
                kwargs[key] = value if conv is None else conv(value)
            except (TypeError, ValueError) as exc:
                raise ToolError(
                    "invalid_arguments", f"{key}: {value!r} is not valid ({exc})", field=key
                ) from exc
        if self.context_param is not None:
            if context is None:
                raise ToolError("config_error", f"tool {self.name!r} needs a call context")
            kwargs[self.context_param] = context
        if self.is_async:
            return await self.fn(**kwargs)
        return await asyncio.to_thread(self.fn, **kwargs)


def make_tool(
    fn: Callable[..., Any],
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
) -> FunctionTool:
    """Build a `FunctionTool` from `fn` (what `@tool` does)."""
    derived = derive_signature(fn, context_types=(ToolContext,))
    tool_name = name or fn.__name__
    if not TOOL_NAME.match(tool_name):
        raise ToolDefinitionError(f"tool name {tool_name!r} must match {TOOL_NAME.pattern}")
    return FunctionTool(
        fn=fn,
        name=tool_name,
        description=description or derived.description,
        parameters=derived.parameters,
        converters=derived.converters,
        context_param=derived.context_param,
        timeout=timeout,
    )


@overload
def tool(fn: Callable[..., Any], /) -> FunctionTool: ...
@overload
def tool(
    *, name: str | None = None, description: str | None = None, timeout: float | None = None
) -> Callable[[Callable[..., Any]], FunctionTool]: ...
def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
) -> Any:
    """Decorator: `@tool` or `@tool(name=..., timeout=...)` turns a function into a tool.

    The schema is derived at decoration time, so a bad hint fails at import, not mid-call.
    """
    if fn is not None:
        return make_tool(fn)

    def decorate(func: Callable[..., Any]) -> FunctionTool:
        return make_tool(func, name=name, description=description, timeout=timeout)

    return decorate


class ToolRegistry:
    """Tools by name. Names are unique; registering a second tool with a taken name fails."""

    def __init__(self, tools: Iterable[Tool | Callable[..., Any]] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for item in tools:
            self.add(item)

    def add(self, item: Tool | Callable[..., Any]) -> Tool:
        """Register a tool (a plain function is wrapped with `make_tool`). Returns the tool."""
        new = item if isinstance(item, Tool) else make_tool(item)
        if new.name in self._tools:
            raise ValueError(f"a tool named {new.name!r} is already registered")
        self._tools[new.name] = new
        return new

    def tool(self, fn: Callable[..., Any] | None = None, /, **options: Any) -> Any:
        """Decorator registering into this registry: `@registry.tool` or `@registry.tool(...)`."""
        if fn is not None:
            return self.add(make_tool(fn, **options))
        return lambda func: self.add(make_tool(func, **options))

    def get(self, name: str) -> Tool | None:
        return self._tools.get(name)

    def names(self) -> list[str]:
        return list(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def _select(self, names: Iterable[str] | None) -> list[Tool]:
        if names is None:
            return list(self._tools.values())
        wanted = list(names)
        missing = [n for n in wanted if n not in self._tools]
        if missing:
            raise KeyError(f"no tool registered under {missing}; known: {sorted(self._tools)}")
        return [self._tools[n] for n in wanted]

    def anthropic_schemas(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """`[{"name", "description", "input_schema"}]` for all tools, or the ones named."""
        return [t.anthropic_schema() for t in self._select(names)]

    def openai_schemas(self, names: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """`[{"type": "function", "function": {...}}]` for all tools, or the ones named."""
        return [t.openai_schema() for t in self._select(names)]
