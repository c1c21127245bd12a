"""`Backoff`: how long to wait before retrying a failed LLM request.

Exponential (base, 2x base, 4x base, ... capped) with "equal jitter" (a random 50-100 % of
that), so calls that failed together do not retry together. A server's Retry-After is
honoured when it asks for longer, up to the cap. Pure arithmetic; touches nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    base_s: float = 0.5
    cap_s: float = 4.0

    def delay(
        self,
        attempt: int,
        retry_after_s: float | None = None,
        rand: Callable[[], float] = random.random,
    ) -> float:
        """Seconds to wait after failed attempt number `attempt` (1 for the first)."""
        step = min(self.cap_s, self.base_s * 2 ** max(0, attempt - 1))
        wait = step * (0.5 + 0.5 * rand())
        if retry_after_s is not None and 0 < retry_after_s <= self.cap_s:
            wait = max(wait, retry_after_s)
        return wait


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds) headers; None if absent/odd."""
    if not headers:
        return None
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value) * scale
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None
