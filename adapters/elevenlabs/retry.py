"""When to try an ElevenLabs request again, and how long to wait first.

Transient: HTTP 408, 429 and 5xx answers, and connection failures (refused, reset, a
keep-alive connection the server had already closed, a connect timeout). Not transient: any
other 4xx (a bad key, an unknown voice, a rejected body) and a read timeout — a stalled
synthesis has already cost the caller the whole timeout, so it is better to give up and let
the engine say something else than to wait that long again. The wait is exponential
backoff with jitter (half fixed, half random), or the server's `Retry-After` when it sends
one; both are capped. The caller only retries before the first audio byte.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx
from elevenlabs.core.api_error import ApiError

TRANSIENT_STATUSES = frozenset({408, 429})


def status_of(exc: BaseException) -> int | None:
    """The HTTP status of an SDK error, if the server answered."""
    return exc.status_code if isinstance(exc, ApiError) else None


def is_transient(exc: BaseException) -> bool:
    status = status_of(exc)
    if status is not None:
        return status in TRANSIENT_STATUSES or status >= 500
    if isinstance(exc, httpx.ConnectTimeout):
        return True
    if isinstance(exc, httpx.TimeoutException):
        return False
    return isinstance(exc, httpx.NetworkError | httpx.RemoteProtocolError)


def retry_after(exc: BaseException) -> float | None:
    """The server's `Retry-After` in seconds (numeric form only), if any."""
    headers = getattr(exc, "headers", None) or {}
    value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    try:
        seconds = float(value) if value is not None else None
    except ValueError:
        return None
    return seconds if seconds is not None and seconds >= 0 else None


@dataclass
class RetryPolicy:
    """`max_retries` further attempts after the first, waiting about `base`, 2·`base`,
    4·`base`… (never more than `cap` seconds) in between."""

    max_retries: int = 3
    base: float = 0.2
    cap: float = 2.0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def __post_init__(self) -> None:
        if self.max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {self.max_retries}")
        if self.base < 0 or self.cap < 0:
            raise ValueError("backoff times must be >= 0")

    def should_retry(self, exc: BaseException, retries_done: int) -> bool:
        return retries_done < self.max_retries and is_transient(exc)

    def delay(self, retries_done: int, exc: BaseException | None = None) -> float:
        """Seconds to wait before retry number `retries_done + 1`."""
        told = retry_after(exc) if exc is not None else None
        if told is not None:
            return min(told, self.cap)
        step = min(self.cap, self.base * (2 ** retries_done))
        return step / 2 + self.rng.uniform(0, step / 2)
