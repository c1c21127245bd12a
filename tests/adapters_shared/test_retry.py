"""The one retry rule every adapter uses (adapters/retry.py): backoff with jitter, and
`Retry-After` read as RFC 9110 says (delta-seconds or an HTTP-date), bounded."""

from __future__ import annotations

import pytest

from adapters.retry import MAX_RETRY_AFTER_S, Backoff, backoff_delay, parse_retry_after, retry_after

NOW = 1445412480.0  # Wed, 21 Oct 2015 07:28:00 GMT


def test_every_adapter_waits_by_the_same_rule() -> None:
    # (the numbers of backoff_delay itself: tests/deepgram/test_deepgram_parts.py)
    for attempt in (1, 2, 3, 6):
        for r in (0.0, 0.3, 1.0):
            assert Backoff(0.25, 2.0).delay(attempt, rand=lambda r=r: r) == backoff_delay(
                attempt, 0.25, 2.0, lambda r=r: r)
    with pytest.raises(ValueError):
        Backoff(base_s=-1)


def test_a_server_wait_is_a_floor_bounded_by_the_cap() -> None:
    backoff = Backoff(base_s=0.5, cap_s=4.0)
    assert backoff.delay(1, 0.0, rand=lambda: 0.0) == 0.25  # never sooner than the backoff
    assert backoff.delay(1, 3.0, rand=lambda: 0.0) == 3.0
    assert backoff.delay(1, 600.0, rand=lambda: 0.0) == 4.0


@pytest.mark.parametrize(("value", "seconds"), [
    ("0", 0.0),
    ("120", 120.0),
    (" 7 ", 7.0),
    ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),  # IMF-fixdate
    ("Wednesday, 21-Oct-15 07:29:00 GMT", 60.0),  # obsolete RFC 850 form
    ("Wed Oct 21 07:28:05 2015", 5.0),  # obsolete asctime form (GMT)
    ("Tue, 20 Oct 2015 07:28:00 GMT", 0.0),  # in the past: go now
    ("99999999999", MAX_RETRY_AFTER_S),  # bounded
])
def test_retry_after_is_delta_seconds_or_an_http_date(value: str, seconds: float) -> None:
    assert parse_retry_after(value, lambda: NOW) == seconds


@pytest.mark.parametrize("value", [
    "", "1.5", "-3", "soon", "3 seconds", "1" * 65, "Wed, 32 Oct 2015 07:28:00 GMT", None])
def test_malformed_retry_after_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value, lambda: NOW) is None


def test_headers_in_any_case_and_milliseconds_first() -> None:
    assert retry_after({"Retry-After": "2"}) == 2.0
    assert retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert retry_after({"retry-after-ms": "bad", "retry-after": "9"}) == 9.0
    assert retry_after({"content-type": "text/plain"}) is None
    assert retry_after(None) is None
