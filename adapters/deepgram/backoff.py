"""Reconnect delays: exponential backoff with "equal jitter".

Attempt n waits between half and all of `min(cap, base * 2**(n-1))`, so calls that lost
Deepgram at the same moment do not all come back at the same instant, yet no attempt is
made immediately after a failure. Pure computation; the random source is injectable.
"""

from __future__ import annotations

import random
from collections.abc import Callable


def backoff_delay(
    attempt: int, base: float, cap: float, rand: Callable[[], float] = random.random
) -> float:
    """Seconds to wait before reconnect attempt `attempt` (1 for the first)."""
    if attempt < 1:
        raise ValueError("attempt counts from 1")
    ceiling = min(cap, base * 2 ** (attempt - 1))
    return ceiling / 2 + rand() * ceiling / 2
