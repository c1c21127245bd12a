"""`until`: the tests' one way to wait for something — poll a condition until it holds, with a
generous deadline that is a safety net for a loaded machine, not a timing assertion."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

DEADLINE = 60.0  # seconds; a loaded CI machine can be many times slower than a laptop


async def until(predicate: Callable[[], object], what: str = "", timeout: float = DEADLINE,
                every: float = 0.01) -> None:
    """Return once `predicate()` is true (checked every `every` s); fail, naming `what`,
    after `timeout` s."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not predicate():
        if loop.time() >= deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for "
                                 f"{what or getattr(predicate, '__name__', 'the condition')}")
        await asyncio.sleep(every)
