"""The variables an outbound call starts with (`--var name=value`, the API's `"vars"`),
checked against the flow's declared `vars:` so a typo'd name is an error that names it.
Values are bounded text; a variable whose default is a number or true/false takes the
value in that type. Pure functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flows.errors import did_you_mean
from flows.model import Flow

MAX_VARS = 32
MAX_VALUE = 500


class VarError(ValueError):
    """A variable the flow does not declare, or a value that cannot be used; one line."""


def parse_pairs(pairs: Iterable[str]) -> dict[str, str]:
    """`["name=Ana", "when=Thursday"]` -> a dict; `VarError` for a pair without `=`."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise VarError(f"--var {pair[:40]!r} is not name=value")
        out[name.strip()] = value
    return out


def check_vars(flow: Flow, given: Mapping[str, Any]) -> dict[str, Any]:
    """The starting values for `flow`, typed like their declared defaults."""
    if len(given) > MAX_VARS:
        raise VarError(f"at most {MAX_VARS} variables, got {len(given)}")
    out: dict[str, Any] = {}
    for name, value in given.items():
        if name not in flow.vars:
            declared = list(flow.vars) or ["(none: the flow declares no vars:)"]
            raise VarError(f"unknown variable {str(name)[:40]!r} for {flow.path}: "
                           + did_you_mean(str(name), declared))
        if isinstance(value, (dict, list)) or len(str(value)) > MAX_VALUE:
            raise VarError(f"variable {name!r} must be a text of at most {MAX_VALUE} "
                           "characters")
        out[name] = _typed(name, value, flow.vars[name])
    return out


def _typed(name: str, value: Any, default: Any) -> Any:
    if isinstance(default, bool):
        text = str(value).strip().lower()
        if text not in ("true", "false"):
            raise VarError(f"variable {name!r} is true or false, got {str(value)[:40]!r}")
        return text == "true"
    if isinstance(default, (int, float)) and not isinstance(value, (int, float)):
        try:
            return type(default)(str(value))
        except ValueError:
            raise VarError(f"variable {name!r} is a number, got {str(value)[:40]!r}") from None
    return value if isinstance(value, (int, float, bool)) else str(value)
