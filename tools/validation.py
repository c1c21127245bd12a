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
from tools.schema import HHMM_PATTERN, ONE_LINE_TEXT_PATTERN, TEXT_PATTERNS

SHOWN_CHARS = 40  # a bad value is quoted up to this many characters in a message

_FORMAT_HINTS = {
    "date": "a date like 2026-03-14 (YYYY-MM-DD)",
    "date-time": "a date and time like 2026-03-14T09:30:00-05:00",
}


def _where(error: ValidationError) -> str | None:
    return ".".join(str(p) for p in error.absolute_path) or None


def _cut(text: str) -> str:
    """At most `SHOWN_CHARS` of `text`, so a huge argument never floods a message."""
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def _quote(value: Any) -> str:
    return _cut(repr(value))


def _quote_json(value: Any) -> str:
    return _cut(json.dumps(value))


def _text_problem(label: str, value: Any, pattern: str) -> str:
    if isinstance(value, str) and not value.strip():
        return f"{label}: must not be blank"
    lines = "" if pattern == ONE_LINE_TEXT_PATTERN else " (line breaks are fine)"
    return (f"{label}: must be plain text without control characters such as newlines, tabs "
            f"or NUL{lines}; write it again as plain words")


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
        message = f"{label}: expected {error.validator_value} but got {_quote_json(value)}"
    elif kind == "format":
        hint = _FORMAT_HINTS.get(str(error.validator_value), f"a valid {error.validator_value}")
        message = f"{label}: {_quote(value)} is not {hint}"
    elif kind == "pattern" and error.validator_value == HHMM_PATTERN:
        message = f"{label}: {_quote(value)} is not a 24-hour time like 14:30 (HH:MM)"
    elif kind == "pattern" and error.validator_value in TEXT_PATTERNS:
        message = _text_problem(label, value, error.validator_value)
    elif kind == "enum":
        message = f"{label}: {_quote(value)} is not one of {error.validator_value}"
    elif kind == "minLength" and error.validator_value == 1:
        message = f"{label}: must not be empty"
    elif kind == "maxLength":
        message = (f"{label}: must be at most {error.validator_value} characters "
                   f"(got {len(value)}); shorten it")
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
