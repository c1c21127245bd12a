"""`Pacer`: one shared pacing tick per event loop for every call's outbound audio.

Each call's sender (`OutboundAudio`, outbound.py) that waits for a frame's time joins its
loop's pacer instead of arming a timer of its own. The pacer runs one timer on a fixed grid
(every `TICK` seconds of loop time, while anyone waits) and, on each tick, hands every
waiting sender the tick (`on_tick`), which sends what is due itself or wakes its own task. So
a process wakes `1 / TICK` times a second for pacing however many calls it holds, instead of
once per call per pair of frames: the work per wake-up no longer depends on how many calls
share a loop.

A sender leaves the pacer when `on_tick` says so or when its wait ends for another reason
(`leave`: a clear cut it short, a teardown cancelled it); the pacer then holds no reference
to it. The pacer holds none to its loop either (the timer does, while armed), so a closed
loop's pacer goes with it. Touches nothing but its own loop's timer and the senders that join.
"""

from __future__ import annotations

import asyncio
import logging
import math
import weakref
from typing import Protocol

log = logging.getLogger("dialflow.outbound")
TICK = 0.02  # one frame: a sender's frames leave within a frame of their slot (outbound.py)


class Paced(Protocol):
    def on_tick(self, due: float, now: float) -> bool:
        """The tick scheduled for `due` runs at `now`; True to stay for the next one."""


class Pacer:
    def __init__(self) -> None:
        self._waiting: dict[Paced, None] = {}  # an ordered set: the senders of this loop
        self._armed = False
        self._due = 0.0  # the armed tick's time on the grid

    def __len__(self) -> int:
        return len(self._waiting)

    def join(self, sender: Paced) -> None:
        """`sender` gets the next tick (and each after it, while it says so)."""
        self._waiting[sender] = None
        if not self._armed:
            self._arm(asyncio.get_running_loop())

    def leave(self, sender: Paced) -> None:
        self._waiting.pop(sender, None)

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        self._due = (math.floor(loop.time() / TICK + 1e-6) + 1) * TICK  # the next grid point
        self._armed = True
        loop.call_at(self._due, self._tick)

    def _tick(self) -> None:
        self._armed = False
        loop = asyncio.get_running_loop()
        now, due = loop.time(), self._due
        for sender in list(self._waiting):
            try:
                stay = sender.on_tick(due, now)
            except Exception:  # one call's bug must not stop every call's audio
                log.exception("outbound pacing failed for one sender; it leaves the tick")
                stay = False
            if not stay:
                self._waiting.pop(sender, None)
        if self._waiting and not self._armed:
            self._arm(loop)


_PACERS: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Pacer] = \
    weakref.WeakKeyDictionary()


def pacer_for(loop: asyncio.AbstractEventLoop) -> Pacer:
    """The one pacer of `loop` (made on first use)."""
    pacer = _PACERS.get(loop)
    if pacer is None:
        pacer = _PACERS[loop] = Pacer()
    return pacer
