"""Making outside text safe for logs: phone numbers show only their last four digits, and
ids from the wire are escaped so they cannot forge log lines.

Every Twilio module logs through these helpers when a number or an id could appear. Pure
functions, no I/O, no project imports.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d")
_NUMBER = re.compile(r"(?<!\w)\+?\d[\d\s().-]{5,}\d(?!\w)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def redact_number(number: str) -> str:
    """`+15551234567` -> `***4567`; anything with fewer than five digits -> `***`."""
    digits = "".join(_DIGITS.findall(number or ""))
    if len(digits) < 5:
        return "***"
    return "***" + digits[-4:]


def redact_text(text: str) -> str:
    """Redact every phone-number-looking run (7+ digits, maybe with `+`, spaces, dots,
    dashes, parentheses) inside free text such as error messages; ISO dates are kept."""

    def replace(match: re.Match[str]) -> str:
        found = match.group(0)
        if len(_DIGITS.findall(found)) < 7 or _DATE.fullmatch(found.strip()):
            return found
        return redact_number(found)

    return _NUMBER.sub(replace, text or "")


def escape_id(value: str, limit: int = 80) -> str:
    """An id from outside, safe to log: non-printable characters (newline, escape codes)
    and backslashes become Python escapes, so distinct ids stay distinct; longer than
    `limit` characters is cut with a marker."""
    escaped = "".join(ch if ch.isprintable() and ch != "\\" else
                      ch.encode("unicode_escape").decode("ascii") for ch in value or "")
    return escaped if len(escaped) <= limit else escaped[:limit] + "…"
