"""Phone numbers: normalise what a caller says or telephony sends to E.164.

Pure functions and the `Phone` argument types; imports only `tools.result`, touches nothing
outside itself. Redacting a number for display is `engine.redaction.redact_number`.
"""

from __future__ import annotations

import re
from typing import Annotated

from tools.result import ToolError

MAX_PHONE_CHARS = 32  # "+1 (555) 123-4567" and friends fit; anything longer is not a number
Phone = Annotated[str, {"maxLength": MAX_PHONE_CHARS}]
"""A phone-number tool argument: bounded before it is parsed."""
OptionalPhone = Annotated[str | None, {"maxLength": MAX_PHONE_CHARS}]

_SEPARATORS = re.compile(r"[\s\-.()/]")
_DIGITS = re.compile(r"[0-9]+")


class InvalidPhoneNumber(ValueError):
    """The text is not a phone number we can normalise."""


def normalize_phone(text: str) -> str:
    """Return `text` as E.164 (`+15551234567`) or raise `InvalidPhoneNumber`.

    Accepts `+<8..15 digits>` (country code not starting with 0), `00<country...>`,
    10-digit US numbers (area code 2-9) and 11-digit US numbers starting with 1.
    """
    if not isinstance(text, str):
        raise InvalidPhoneNumber("a phone number must be text")
    compact = _SEPARATORS.sub("", text.strip())
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    if compact.startswith("+"):
        digits = compact[1:]
        if _DIGITS.fullmatch(digits) and 8 <= len(digits) <= 15 and digits[0] != "0":
            return "+" + digits
        raise InvalidPhoneNumber(
            f"{text!r} is not a valid international number (+ and 8 to 15 digits)"
        )
    if _DIGITS.fullmatch(compact):
        if len(compact) == 11 and compact[0] == "1":
            compact = compact[1:]
        if len(compact) == 10 and compact[0] in "23456789":
            return "+1" + compact
    raise InvalidPhoneNumber(
        f"{text!r} is not a valid phone number (10-digit US number or +country code)"
    )


def phone_argument(text: str, field: str = "phone") -> str:
    """`normalize_phone` for a tool argument: a bad number becomes an `invalid_arguments` error."""
    try:
        return normalize_phone(text)
    except InvalidPhoneNumber as exc:
        raise ToolError("invalid_arguments", f"{field}: {exc}", field=field) from exc


def try_normalize_phone(text: str | None) -> str | None:
    """Like `normalize_phone` but returns None for missing or unusable numbers (caller id)."""
    if not text:
        return None
    try:
        return normalize_phone(text)
    except InvalidPhoneNumber:
        return None
