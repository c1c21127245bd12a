"""The retry policy on its own: which failures are transient, and the backoff between tries.

The SDK's `ApiError` is taken from the adapter module: only `adapters/elevenlabs` imports
the SDK."""

from __future__ import annotations

import random

import httpx
import pytest

from adapters.elevenlabs.retry import ApiError, RetryPolicy, is_transient, retry_after


def api_error(status: int, headers: dict[str, str] | None = None) -> ApiError:
    return ApiError(status_code=status, headers=headers or {}, body={"detail": "x"})


@pytest.mark.parametrize(("exc", "transient"), [
    (api_error(429), True),
    (api_error(408), True),
    (api_error(500), True),
    (api_error(503), True),
    (api_error(400), False),
    (api_error(401), False),
    (api_error(404), False),
    (api_error(422), False),
    (httpx.ConnectError("refused"), True),
    (httpx.ConnectTimeout("slow connect"), True),
    (httpx.ReadError("reset"), True),
    (httpx.RemoteProtocolError("server closed a kept-alive connection"), True),
    (httpx.ReadTimeout("stalled"), False),
    (ValueError("not a transport problem"), False),
])
def test_which_failures_are_transient(exc: BaseException, transient: bool) -> None:
    assert is_transient(exc) is transient


def test_backoff_doubles_with_jitter_and_is_capped() -> None:
    policy = RetryPolicy(max_retries=3, base=0.2, cap=1.0, rng=random.Random(7))
    for retries_done, step in enumerate([0.2, 0.4, 0.8, 1.0, 1.0]):
        delays = {policy.delay(retries_done) for _ in range(50)}
        assert all(step / 2 <= d <= step for d in delays)
        assert len(delays) > 1  # jittered, not fixed


def test_retry_after_is_honoured_but_capped() -> None:
    policy = RetryPolicy(base=0.2, cap=2.0)
    assert retry_after(api_error(429, {"retry-after": "1"})) == 1.0
    assert policy.delay(0, api_error(429, {"Retry-After": "1"})) == 1.0
    assert policy.delay(0, api_error(429, {"retry-after": "30"})) == 2.0
    assert retry_after(api_error(429, {"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})) == 0.0
    assert retry_after(api_error(429, {"retry-after": "1.5"})) is None  # not delta-seconds


def test_at_most_max_retries() -> None:
    policy = RetryPolicy(max_retries=3)
    assert [policy.should_retry(api_error(500), n) for n in range(5)] == [
        True, True, True, False, False]
    assert not policy.should_retry(api_error(401), 0)
    with pytest.raises(ValueError):
        RetryPolicy(max_retries=-1)
