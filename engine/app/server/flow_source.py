"""`FlowSource`: the flow that new calls start on, reloaded live when flows.yaml changes.

A change (seen by polling the file's modification time, or on SIGHUP) is read, validated
and prepared in a worker thread, so a huge or hostile file never pauses calls in progress.
Preparing checks what a fresh `dialflow serve` would (the `prepare` hook the composition
root sets: providers, HTTP tools, the brain built from the system prompt); the new version
then takes over for new calls all at once, or is refused, logged and kept in
`last_refusal` while the previous version keeps serving. Calls already in progress keep
the machine they started with. The watcher logs any error and keeps watching.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.machine import FlowMachine
from flows import Flow, FlowInvalid, load_flow

log = logging.getLogger("dialflow.flows")
POLL_SECONDS = 1.0

Apply = Callable[[], None]
Prepare = Callable[[Flow, Flow], Apply | None]
"""(serving flow, new flow) -> what to swap in with it; raises to refuse the new flow."""


class FlowSource:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._machine = FlowMachine(load_flow(self.path))
        self._mtime = self._stat()
        self.version = 1
        self.sha256 = self._digest()
        self.loaded_at = time.time()
        self.last_error = ""  # why the latest reload was refused; "" once one succeeds
        self.last_refusal: dict[str, Any] | None = None  # the latest refusal, kept
        self.prepare: Prepare | None = None
        self._task: asyncio.Task[None] | None = None
        self._kick: asyncio.Event | None = None

    def current(self) -> FlowMachine:
        return self._machine

    def describe(self) -> dict[str, Any]:
        """For /health: the version serving new calls and the last refused edit."""
        return {"sha256": self.sha256, "loaded_at": round(self.loaded_at, 3),
                "last_error": self.last_error, "last_refusal": self.last_refusal}

    def _stat(self) -> float:
        try:
            return self.path.stat().st_mtime
        except OSError:
            return 0.0

    def _digest(self) -> str:
        try:
            return hashlib.sha256(self.path.read_bytes()).hexdigest()[:16]
        except OSError:
            return ""

    # -- reloading ---------------------------------------------------------------------------
    def reload(self) -> bool:
        """Load the file again in this thread; True when the new flow took over."""
        return self._commit(self._prepare())

    async def reload_async(self) -> bool:
        """`reload` with the reading, validation and preparation in a worker thread."""
        return self._commit(await asyncio.to_thread(self._prepare))

    def _prepare(self) -> tuple[FlowMachine, Apply | None, str] | str:
        """The new machine, what to swap in with it and its digest, or why it is refused."""
        self._mtime = self._stat()
        try:
            flow = load_flow(self.path)
            machine = FlowMachine(flow)
            apply = self.prepare(self._machine.flow, flow) if self.prepare else None
        except FlowInvalid as exc:
            return str(exc)
        except Exception as exc:  # a provider, a tool, a brain that a fresh serve would refuse
            return f"{self.path}: {exc}" if str(exc) else f"{self.path}: {type(exc).__name__}"
        return machine, apply, self._digest()

    def _commit(self, prepared: tuple[FlowMachine, Apply | None, str] | str) -> bool:
        if isinstance(prepared, str):
            self.last_error = prepared
            self.last_refusal = {"at": round(time.time(), 3), "error": prepared,
                                 "serving_version": self.version}
            log.error("flow edit refused, still serving version %d:\n%s", self.version,
                      prepared)
            return False
        machine, apply, digest = prepared
        if apply is not None:
            apply()
        self._machine = machine
        self.version += 1
        self.sha256, self.loaded_at, self.last_error = digest, time.time(), ""
        log.warning("flow %s reloaded: version %d serves new calls", self.path, self.version)
        return True

    # -- watching ----------------------------------------------------------------------------
    async def watch(self) -> None:
        """Poll the file (and wake on SIGHUP); reload on change. Never dies of an error."""
        loop = asyncio.get_running_loop()
        kick = self._kick = asyncio.Event()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(signal.SIGHUP, kick.set)
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(kick.wait(), POLL_SECONDS)
            try:
                if kick.is_set() or self._stat() != self._mtime:
                    kick.clear()
                    await self.reload_async()
            except Exception:
                log.exception("flow watcher: reloading %s failed; still serving version %d "
                              "and watching", self.path, self.version)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.watch(), name="flow-watch")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
