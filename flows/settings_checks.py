"""Settings rules beyond their type: `settings.limits` (the call watchdog) and value ranges.

`parse_limits` reads the `limits:` section (durations); `check_ranges` reports values that
have the right type but cannot work (a confidence above 1, a negative length). Called from
`flows/settings.py`; imports only flows/ modules.
"""

from __future__ import annotations

from typing import Any

from flows.durations import parse_duration
from flows.errors import FlowError, did_you_mean
from flows.model import Limits
from flows.yaml_lines import YMap

LIMIT_KEYS = {"max_call": "the longest a call may last, e.g. 20m",
              "hangup_after": "how long the flow has to end the call after the limit, e.g. 30s"}

# section -> key -> (lowest, highest or None, what to write)
_RANGES: dict[str, dict[str, tuple[float, float | None, str]]] = {
    "stt": {"min_confidence": (0.0, 1.0, "a number from 0 to 1, e.g. 0.5")},
    "llm": {"temperature": (0.0, 2.0, "a number from 0 to 2, e.g. 0.3"),
            "max_tokens": (1.0, None, "a whole number above 0, e.g. 300")},
}


def parse_limits(raw: Any, path: str, line: int, errors: list[FlowError]) -> Limits:
    """The `limits:` section as `Limits`; problems go to `errors`."""
    if raw is None:
        return Limits(line=line)  # where `limits:` would go, for the "unbounded" finding
    if not isinstance(raw, YMap):
        errors.append(FlowError(path, line, "settings.limits must be a mapping",
                                "write `limits: {max_call: 20m}`"))
        return Limits(line=line)
    values: dict[str, float] = {}
    for key, value in raw.items():
        at = raw.line_of(key)
        if key not in LIMIT_KEYS:
            errors.append(FlowError(path, at, f"unknown setting 'limits.{key}'",
                                    did_you_mean(key, LIMIT_KEYS)))
            continue
        try:
            values[key] = parse_duration(value)
        except ValueError as exc:
            errors.append(FlowError(path, at, f"settings.limits.{key}: {exc}",
                                    f"write {LIMIT_KEYS[key]}"))
    return Limits(max_call=values.get("max_call"), hangup_after=values.get("hangup_after", 30.0),
                  line=line)


def check_ranges(raw: YMap, path: str, errors: list[FlowError]) -> None:
    """Numbers of the right type but outside what can work."""
    for section, keys in _RANGES.items():
        block = raw.get(section)
        if not isinstance(block, YMap):
            continue
        for key, (low, high, hint) in keys.items():
            value = block.get(key)
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                continue  # missing, or a type error reported by the schema check
            if value < low or (high is not None and value > high):
                errors.append(FlowError(path, block.line_of(key),
                                        f"settings.{section}.{key} is {value}, out of range",
                                        f"write {hint}"))
