"""What a tool hands back: `ToolResult` (ok + data, or a structured `ToolFailure`) and `ToolError`.

Tools return plain JSON-able data or raise `ToolError`; the runner turns both into a
`ToolResult`, whose `to_llm()` form is what the brain sees. Error codes are a closed list
(`ERROR_CODES`) so flows and prompts can rely on them. This module imports nothing from the
project and touches nothing outside itself.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any

ERROR_CODES: dict[str, str] = {
    "invalid_arguments": "the arguments do not match the tool's schema or rules",
    "unknown_tool": "no tool has that name",
    "timeout": "the tool did not finish in time; its effect is unknown",
    "slot_unavailable": "the requested appointment time cannot be booked",
    "not_found": "nothing matched the request",
    "ambiguous": "several things matched; the caller must choose",
    "forbidden": "the caller may not do this (e.g. another phone number's appointments)",
    "http_error": "a connected system answered with an error or could not be reached",
    "config_error": "the tool is misconfigured (e.g. a missing environment variable)",
    "internal_error": "the tool failed unexpectedly",
}

# Answers the brain can act on with the caller (fix the arguments, offer another time, ...),
# as opposed to the other codes, which mean the system failed and the flow should handle it.
RECOVERABLE_CODES = frozenset(
    {"invalid_arguments", "unknown_tool", "slot_unavailable", "not_found", "ambiguous",
     "forbidden"}
)


class ToolError(Exception):
    """Raised inside a tool to return a structured error to the brain instead of data.

    `details` are extra JSON-able fields merged into the error (e.g. `alternatives`).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        if code not in ERROR_CODES:
            raise ValueError(f"unknown tool error code {code!r}")
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.details = dict(details or {})

    def to_failure(self) -> ToolFailure:
        return ToolFailure(self.code, self.message, self.field, self.details)


@dataclass(frozen=True)
class ToolFailure:
    """The error half of a result: a code from `ERROR_CODES`, a sentence, the bad field."""

    code: str
    message: str
    field: str | None = None
    details: dict[str, Any] = dataclasses.field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        for key, value in self.details.items():
            out.setdefault(key, value)
        return out


@dataclass(frozen=True)
class ToolResult:
    """Outcome of one tool call. Exactly one of `data` (when ok) and `error` is set."""

    ok: bool
    data: Any = None
    error: ToolFailure | None = None

    def __post_init__(self) -> None:
        if self.ok and self.error is not None:
            raise ValueError("an ok ToolResult cannot carry an error")
        if not self.ok and self.error is None:
            raise ValueError("a failed ToolResult needs an error")

    @classmethod
    def success(cls, data: Any = None) -> ToolResult:
        return cls(ok=True, data=data)

    @classmethod
    def failure(
        cls,
        code: str,
        message: str,
        *,
        field: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> ToolResult:
        return cls(ok=False, error=ToolError(code, message, field=field, details=details)
                   .to_failure())

    @property
    def system_failure(self) -> bool:
        """True when the tool could not do its job (timeout, outage, misconfiguration, bug);
        False for success and for answers the brain handles with the caller."""
        return self.error is not None and self.error.code not in RECOVERABLE_CODES

    def to_llm(self) -> dict[str, Any]:
        """The JSON-able form given back to the brain."""
        if self.ok:
            return {"ok": True, "data": self.data}
        assert self.error is not None
        return {"ok": False, "error": self.error.to_dict()}

    def to_json(self) -> str:
        """`to_llm()` as a compact JSON string (what a tool-result message carries)."""
        return json.dumps(self.to_llm(), ensure_ascii=False, separators=(",", ":"), default=str)
