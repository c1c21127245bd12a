"""When to try an ElevenLabs request again, and how long to wait first.

Transient: HTTP 408, 429 and 5xx answers, and connection failures (refused, reset, a
keep-alive connection the server had already closed, a connect timeout). Not transient: any
other 4xx (a bad key, an unknown voice, a rejected body) and a read timeout — a stalled
synthesis has already cost the caller the whole timeout, so it is better to give up and let
the engine say something else than to wait that long again. The wait is the shared rule of
`adapters.retry`: exponential backoff with jitter, at least the server's `Retry-After` when
it sends one, capped. The caller only retries before the first audio byte.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import httpx
from elevenlabs.core.api_error import ApiError

from adapters.retry import Backoff, parse_retry_after

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
    """The server's `Retry-After` in seconds (see `adapters.retry`), if it sent one."""
    return parse_retry_after(headers.get("retry-after")) if (headers := _headers(exc)) else None


def _headers(exc: BaseException) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (getattr(exc, "headers", None) or {}).items()}


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
        Backoff(self.base, self.cap)  # checks the times

    def should_retry(self, exc: BaseException, retries_done: int) -> bool:
        return retries_done < self.max_retries and is_transient(exc)

    def delay(self, retries_done: int, exc: BaseException | None = None) -> float:
        """Seconds to wait before retry number `retries_done + 1`."""
        told = retry_after(exc) if exc is not None else None
        return Backoff(self.base, self.cap).delay(retries_done + 1, told, self.rng.random)
