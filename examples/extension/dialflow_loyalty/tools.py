"""The `loyalty_points` tool: how many points the caller has, for the caller's own number.

A `@tool` function like dialflow's own: typed arguments become its JSON schema, and the
`ToolContext` parameter (the call's caller id, clock, storage) is never given by the brain.
Registered through the `dialflow.tools` entry point. Touches nothing (a real one would call
the loyalty system).
"""

from __future__ import annotations

import zlib

from tools.context import ToolContext
from tools.registry import tool


@tool(timeout=5.0)
def loyalty_points(context: ToolContext) -> dict[str, object]:
    """Look up how many loyalty points the caller has."""
    phone = context.caller_phone or ""
    points = zlib.crc32(phone.encode()) % 5000 if phone else 0  # a stand-in for the real system
    return {"points": points, "message": f"You have {points} points."}
