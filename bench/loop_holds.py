"""How long each callback holds an asyncio event loop: a recorder the benches install.

`LoopHolds.install()` wraps `asyncio.Handle._run` (every callback and every task step runs
through it) and records, per step, the loop thread's CPU time and the wall time it kept the
loop, under a name for what ran (the task's coroutine, else the callback). Bench-only: it
patches asyncio for the whole process until `uninstall()`.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from typing import Any


def _name(callback: Any) -> str:
    owner = getattr(callback, "__self__", None)
    if isinstance(owner, asyncio.Task):
        coro = owner.get_coro()
        return getattr(coro, "__qualname__", owner.get_name())
    return getattr(callback, "__qualname__", type(callback).__name__)


class LoopHolds:
    """Per-callback holds of the loop: the longest, and the CPU spent, by name."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = defaultdict(float)
        self.longest: dict[str, tuple[float, float]] = {}  # name -> (cpu, wall) of max wall
        self.most_cpu: dict[str, float] = {}  # name -> the most CPU one step of it took
        self.walls: list[float] = []
        self.cpus: list[float] = []
        self._original: Any = None

    def install(self) -> None:
        original = self._original = asyncio.events.Handle._run
        holds = self

        def _run(handle: asyncio.Handle) -> None:
            name = _name(handle._callback)  # type: ignore[attr-defined]  # (cleared by run)
            cpu, wall = time.thread_time(), time.perf_counter()
            try:
                original(handle)
            finally:
                cpu, wall = time.thread_time() - cpu, time.perf_counter() - wall
                holds.cpu[name] += cpu
                holds.walls.append(wall)
                holds.cpus.append(cpu)
                if wall > holds.longest.get(name, (0.0, 0.0))[1]:
                    holds.longest[name] = (cpu, wall)
                if cpu > holds.most_cpu.get(name, 0.0):
                    holds.most_cpu[name] = cpu

        asyncio.events.Handle._run = _run  # type: ignore[method-assign]

    def uninstall(self) -> None:
        if self._original is not None:
            asyncio.events.Handle._run = self._original  # type: ignore[method-assign]

    def reset(self) -> None:
        self.cpu.clear()
        self.longest.clear()
        self.most_cpu.clear()
        self.walls.clear()
        self.cpus.clear()

    def top(self, n: int = 5) -> list[tuple[str, float, float]]:
        """The `n` longest holds: (name, cpu s, wall s)."""
        ranked = sorted(self.longest.items(), key=lambda kv: -kv[1][1])[:n]
        return [(name, cpu, wall) for name, (cpu, wall) in ranked]

    def top_cpu(self, n: int = 5) -> list[tuple[str, float]]:
        """The `n` steps that took the most CPU of the loop's thread: (name, cpu s)."""
        return sorted(self.most_cpu.items(), key=lambda kv: -kv[1])[:n]
