"""`FlowSource`: the flow that new calls start on, reloaded live when flows.yaml changes.

A change (seen by polling the file's modification time, or on SIGHUP) is validated first;
an invalid edit is refused and logged while the previous flow keeps serving. Calls already
in progress keep the machine they started with, so they finish on their own version.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from pathlib import Path

from engine.machine import FlowMachine
from flows import FlowInvalid, load_flow

log = logging.getLogger("dialflow.flows")
POLL_SECONDS = 1.0


class FlowSource:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._machine = FlowMachine(load_flow(self.path))
        self._mtime = self._stat()
        self.version = 1
        self.last_error = ""
        self._task: asyncio.Task[None] | None = None

    def current(self) -> FlowMachine:
        return self._machine

    def _stat(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def reload(self) -> bool:
        """Load the file again; True when the new flow took over."""
        self._mtime = self._stat()
        try:
            machine = FlowMachine(load_flow(self.path))
        except FlowInvalid as exc:
            self.last_error = str(exc)
            log.error("flow edit refused, still serving version %d:\n%s", self.version, exc)
            return False
        self._machine = machine
        self.version += 1
        self.last_error = ""
        log.warning("flow %s reloaded: version %d serves new calls", self.path, self.version)
        return True

    async def watch(self) -> None:
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, self.reload)
        while True:
            await asyncio.sleep(POLL_SECONDS)
            if self._stat() != self._mtime:
                self.reload()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.watch(), name="flow-watch")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
