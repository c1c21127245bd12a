"""Check tool arguments against a tool's JSON schema and explain problems to the LLM.

`validate_arguments` returns None or an `invalid_arguments` `ToolFailure` naming the field,
with every problem listed when there are several. Pure code; touches nothing.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from jsonschema import Draft202012Validator, ValidationError
from jsonschema.exceptions import best_match

from tools.result import ToolFailure
from tools.schema import HHMM_PATTERN

_FORMAT_HINTS = {
    "date": "a date like 2026-03-14 (YYYY-MM-DD)",
    "date-time": "a date and time like 2026-03-14T09:30:00-05:00",
}


def _where(error: ValidationError) -> str | None:
    return ".".join(str(p) for p in error.absolute_path) or None


def describe_validation_error(error: ValidationError) -> ToolFailure:
    """Turn a jsonschema error into a sentence the LLM can act on, naming the field."""
    field = _where(error)
    kind, value = error.validator, error.instance
    label = field or "arguments"
    if kind == "required":
        missing = [p for p in error.validator_value if p not in (value or {})]
        prefix = f"{field}." if field else ""
        field = prefix + missing[0] if missing else field
        message = "missing required argument(s): " + ", ".join(prefix + m for m in missing)
    elif kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(k for k in (value or {}) if k not in allowed)
        field = extra[0] if extra else field
        message = f"unexpected argument(s) {extra}; allowed: {allowed}"
    elif kind == "type":
        message = f"{label}: expected {error.validator_value} but got {json.dumps(value)}"
    elif kind == "format":
        hint = _FORMAT_HINTS.get(str(error.validator_value), f"a valid {error.validator_value}")
        message = f"{label}: {value!r} is not {hint}"
    elif kind == "pattern" and error.validator_value == HHMM_PATTERN:
        message = f"{label}: {value!r} is not a 24-hour time like 14:30 (HH:MM)"
    elif kind == "enum":
        message = f"{label}: {value!r} is not one of {error.validator_value}"
    elif kind == "minLength" and error.validator_value == 1:
        message = f"{label}: must not be empty"
    else:
        message = f"{label}: {error.message}"
    return ToolFailure("invalid_arguments", message, field)


def validate_arguments(schema: dict[str, Any], args: Any) -> ToolFailure | None:
    """None when `args` match `schema`; otherwise the most relevant problem (all in details)."""
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = list(validator.iter_errors(args))
    if not errors:
        return None
    failure = describe_validation_error(best_match(errors))
    problems = list(dict.fromkeys(describe_validation_error(e).message for e in errors))
    if len(problems) > 1:
        failure = dataclasses.replace(failure, details={"problems": problems})
    return failure
