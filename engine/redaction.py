"""Making outside text safe for logs and displays: phone numbers show only their last four
digits, ids from the wire are escaped so they cannot forge log lines, and stored transcripts
can have cards and dates of birth masked too.

The one phone redactor of dialflow (`redact_number`: `***4567`): the server's and Twilio's
logs, `dialflow calls`, the tools' results and `dialflow tools` listings all use it. Pure
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


_CARD = re.compile(r"(?<![\w])\d(?:[ -]?\d){12,18}(?![\w])")
_DOB = re.compile(
    r"(?<!\w)(?:(?P<iso>(?P<y1>(?:19|20)\d\d)-\d{1,2}-\d{1,2})"
    r"|\d{1,2}[/.-]\d{1,2}[/.-](?P<y2>(?:19|20)\d\d)"
    r"|(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.? \d{1,2}(?:st|nd|rd|th)?,? "
    r"(?P<y3>(?:19|20)\d\d)"
    r"|\d{1,2}(?:st|nd|rd|th)? (?:of )?(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)"
    r"[a-z]*,? (?P<y4>(?:19|20)\d\d))(?!\w)", re.IGNORECASE)
DOB_YEARS_BACK = 2  # a date at least this many years in the past is treated as a birth date


def redact_private(text: str, this_year: int | None = None) -> str:
    """Stored text (`settings.privacy.redact_transcripts`): card-like digit runs (13-19
    digits) become `[card ***1234]`, dates of birth (a date two or more years in the past:
    appointment dates stay readable) become `[date]`, then phone numbers as `redact_text`."""
    import datetime as dt

    year = this_year or dt.date.today().year

    def dob(match: re.Match[str]) -> str:
        found = next(int(match.group(g)) for g in ("y1", "y2", "y3", "y4") if match.group(g))
        return "[date]" if found <= year - DOB_YEARS_BACK else match.group(0)

    text = _CARD.sub(lambda m: f"[card {redact_number(m.group(0))}]", text or "")
    return redact_text(_DOB.sub(dob, text))
