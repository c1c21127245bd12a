"""Retrying a failed provider request: exponential backoff with jitter, and `Retry-After`.

One rule for every adapter (Deepgram reconnects, ElevenLabs synthesis, the LLM brains):
attempt n waits between half and all of `min(cap, base * 2**(n-1))` ("equal jitter"), so
calls that failed together do not come back together, yet never retry at once. When the
server says how long to wait (`Retry-After`, RFC 9110 section 10.2.3: delta-seconds, a
non-negative integer, or an HTTP-date; or the `retry-after-ms` milliseconds that the
OpenAI- and Anthropic-style servers send), the wait is at least that, up to the cap. Which
failures are worth retrying is each adapter's own decision. Pure computation; the random
source and the clock are injectable.
"""

from __future__ import annotations

import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime

#: Longest wait a server's header can ask for (anything larger is read as this).
MAX_RETRY_AFTER_S = 24 * 3600.0
_MAX_HEADER_CHARS = 64  # a longer value is not a delay or a date
_DELTA_SECONDS = re.compile(r"[0-9]+")


def backoff_delay(
    attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before retry attempt `attempt` (1 for the first): between half and
    all of `min(cap, base * 2**(attempt-1))`."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return ceiling / 2 + rand() * ceiling / 2


@dataclass(frozen=True)
class Backoff:
    """`base_s`, 2·`base_s`, 4·`base_s`… with equal jitter, never more than `cap_s`."""

    base_s: float = 0.5
    cap_s: float = 4.0

    def __post_init__(self) -> None:
        if self.base_s < 0 or self.cap_s < 0:
            raise ValueError("backoff times must be >= 0")

    def delay(
        self,
        attempt: int,
        retry_after_s: float | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """Seconds to wait after failed attempt number `attempt` (1 for the first); a
        server's `retry_after_s` makes it at least that long, up to the cap."""
        wait = backoff_delay(attempt, self.base_s, self.cap_s, rand)
        if retry_after_s is not None and retry_after_s >= 0:
            wait = max(wait, min(retry_after_s, self.cap_s))
        return wait


def retry_after(
    headers: Mapping[str, str] | None, now: Callable[[], float] = time.time
) -> float | None:
    """Seconds the server asked to wait, from `retry-after-ms` or `Retry-After` (header
    names in any case); None when absent or malformed. An HTTP-date in the past is 0."""
    if not headers:
        return None
    found = {str(k).lower(): str(v).strip() for k, v in headers.items()
             if str(k).lower() in ("retry-after-ms", "retry-after")}
    millis = found.get("retry-after-ms", "")
    if _DELTA_SECONDS.fullmatch(millis) and len(millis) <= _MAX_HEADER_CHARS:
        return min(int(millis) / 1000, MAX_RETRY_AFTER_S)
    return parse_retry_after(found.get("retry-after"), now)


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """One `Retry-After` value -> seconds (bounded by `MAX_RETRY_AFTER_S`), or None."""
    if value is None:
        return None
    value = value.strip()
    if not value or len(value) > _MAX_HEADER_CHARS:
        return None
    if _DELTA_SECONDS.fullmatch(value):
        return min(float(int(value)), MAX_RETRY_AFTER_S)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:  # asctime dates carry no zone; every HTTP-date is GMT
        when = when.replace(tzinfo=UTC)
    return min(max(0.0, when.timestamp() - now()), MAX_RETRY_AFTER_S)
