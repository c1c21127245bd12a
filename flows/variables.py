"""`vars:` in flows.yaml: the call variables a flow declares, each with its starting value.

    vars:
      member_id: ""          # set by `{set: {member_id: "{event.digits}"}}`
      insurance_asked: false

Declaring them lets `dialflow check` catch a typo'd name in `set:`, in a guard or in a
prompt's `{vars.name}`. Values are literals: text, a number, true/false or null.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flows.yaml_lines import YMap

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
ErrorSink = Callable[[int, str, str], None]


def parse_vars(raw: Any, line: int, error: ErrorSink) -> dict[str, Any]:
    """The declared variables and their starting values."""
    if raw is None:
        return {}
    if not isinstance(raw, YMap):
        error(line, "vars must map names to starting values",
              'write e.g. `vars: {member_id: "", insurance_asked: false}`')
        return {}
    out: dict[str, Any] = {}
    for name, value in raw.items():
        at = raw.line_of(name)
        if not _IDENT.match(str(name)):
            error(at, f"variable name '{name}' is not a plain name",
                  "use lower-case letters, digits and _, e.g. member_id")
            continue
        if value is not None and not isinstance(value, (str, int, float, bool)):
            kind = "a list" if isinstance(value, list) else "a mapping"
            error(at, f"variable '{name}' starts as {kind}, not a literal",
                  f'write `{name}: ""`, a number, true/false or null')
            value = None  # still declared: its uses are not errors too
        out[str(name)] = value
    return out
