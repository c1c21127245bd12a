"""`Watchdog`: the call-level bound of `settings.limits`, so no call outlives it.

At `max_call` after the call started it posts `call.time_limit`, which the flow handles
(say something, take a message, hang up). If the call is still not over `hangup_after`
later — the flow ignored the event, or its goodbye never finished — the watchdog ends the
call itself: it hangs up and the call stops, whatever the adapters do. Timers run on the
call's loop, so event scripts test it on virtual time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from flows.model import Limits


class Watchdog:
    def __init__(self, limits: Limits, post: Callable[[], None],
                 force_end: Callable[[str], None]):
        self.limits = limits
        self._post, self._force_end = post, force_end
        self._handles: list[asyncio.TimerHandle] = []

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Arm the bound; nothing happens when the flow declares no `max_call`."""
        if self.limits.max_call is not None:
            self._handles.append(loop.call_later(self.limits.max_call, self._fire, loop))

    def _fire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._post()
        self._handles.append(loop.call_later(self.limits.hangup_after, self._force))

    def _force(self) -> None:
        self._force_end(f"watchdog: still open {self.limits.hangup_after:g}s after "
                        f"the {self.limits.max_call:g}s limit; hung up")

    def stop(self) -> None:
        for handle in self._handles:
            handle.cancel()
        self._handles.clear()
