"""Phone number normalisation and redaction."""

from __future__ import annotations

import pytest

from engine.redaction import redact_number
from tools.phone import InvalidPhoneNumber, normalize_phone, try_normalize_phone


@pytest.mark.parametrize(
    ("text", "e164"),
    [
        ("(555) 123-4567", "+15551234567"),
        ("555.123.4567", "+15551234567"),
        ("1 555 123 4567", "+15551234567"),
        ("+1 555-123-4567", "+15551234567"),
        ("+44 20 7946 0958", "+442079460958"),
        ("0044 20 7946 0958", "+442079460958"),
    ],
)
def test_normalize(text: str, e164: str) -> None:
    assert normalize_phone(text) == e164


@pytest.mark.parametrize(
    "text",
    [
        "", "12345", "055-123-4567", "+0123456789", "+1234567890123456", "call me",
        "٥٥٥١٢٣٤٥٦٧", "+٤٤٢٠٧٩٤٦٠٩٥٨",
    ],
)
def test_reject(text: str) -> None:
    with pytest.raises(InvalidPhoneNumber):
        normalize_phone(text)
    assert try_normalize_phone(text) is None


def test_redact_as_the_logs_do() -> None:
    assert redact_number("+15551234567") == "***4567"
    assert redact_number("12") == "***"
