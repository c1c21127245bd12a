"""`Relay`: the server loop's side of the console's reader process (`reader.py`).

The loop reads no log: it starts the reader (lazily, on the first console request), asks it
for pages and catch-ups, and keeps only what the reader pushed, ready-made: the newest live
list message (one for all its viewers), and for each call a page follows a short ring of its
newest `items` events (`RING` messages, `RING_BYTES` at most). Every viewer holds a cursor
into that shared state and nothing else, so its work on the loop is a send, and a slow
viewer costs no memory: one that fell behind the ring asks the reader for the next chunk
from its cursor, as fast as its own socket takes them. Requests time out after `ASK`
seconds; a reader that dies or stops reading its requests is replaced, and the streams of
the old one end (browsers reconnect and resume from their last event id). A reader that dies
before it sent anything (it cannot start: a broken install, no memory) is not started again
at once: console requests get 503 with a `Retry-After` for a back-off that doubles with
each failure in a row (`BACKOFF`), and each failure is logged once. The reader gets no secret
from the server's environment. Touches: the reader process and its pipes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import os
import subprocess
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .wire import BrokenWire, Frames, request

log = logging.getLogger("dialflow.console")

ASK = 30.0  # seconds a request may wait for the reader
WAKE = 1.0  # seconds between two wakes of every stream (heartbeats, shutdown, a new reader)
RING = 32  # pushed items events kept per followed call
RING_BYTES = 256 * 1024
MAX_PENDING = 1024 * 1024  # request bytes the reader has not taken: it is stuck
BACKOFF = (1.0, 60.0)  # seconds before a new start after a failed one: doubling, at most
READER = ["-m", "engine.app.server.console.reader"]  # the reader's command after python
KEEP_ENV = ("PATH", "LANG", "LC_ALL", "LC_CTYPE", "TZ", "HOME", "TMPDIR", "VIRTUAL_ENV",
            "SYSTEMROOT")
ROOT = Path(__file__).resolve().parents[4]  # the directory holding the `engine` package


class ReaderGone(RuntimeError):
    """The reader process ended, or did not answer in time; `retry_after` seconds is when to
    ask again (the console's 503 says it)."""

    def __init__(self, message: str, retry_after: float = 2.0):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class Followed:
    """One call pages follow: its newest pushed events, shared by all of them."""

    viewers: int = 0
    known: int = 0  # items the reader said the call has
    done: bool = False  # the reader pushed its end
    frames: deque[tuple[int, int, bool, bytes]] = field(default_factory=deque)
    size: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, start: int, end: int, done: bool, body: bytes) -> None:
        self.frames.append((start, end, done, body))
        self.size += len(body)
        while len(self.frames) > RING or (self.size > RING_BYTES and len(self.frames) > 1):
            self.size -= len(self.frames.popleft()[3])
        self.known = max(self.known, end)
        self.done |= done
        self.changed.set()
        self.changed = asyncio.Event()

    def at(self, cursor: int) -> tuple[int, int, bool, bytes] | None:
        for pushed in self.frames:
            if pushed[0] == cursor:
                return pushed
        return None


class _Pipe(asyncio.Protocol):
    def __init__(self, relay: Relay, generation: int):
        self.relay, self.generation, self.frames = relay, generation, Frames()

    def data_received(self, data: bytes) -> None:
        try:
            for head, body in self.frames.feed(data):
                self.relay._dispatch(head, body)
        except (BrokenWire, ValueError) as exc:
            log.error("console reader sent a broken frame (%s): restarting it", exc)
            self.relay._lost(self.generation)

    def connection_lost(self, exc: Exception | None) -> None:
        self.relay._lost(self.generation)


class Relay:
    """The reader process of one server process, and what it pushed."""

    def __init__(self, calls_dir: Path | None):
        self.calls_dir = calls_dir
        self.generation = 0  # readers started; a stream of an older one ends
        self.live = b""  # the newest live-list event
        self.live_changed = asyncio.Event()
        self.followed: dict[str, Followed] = {}
        self.watchers = 0
        self._proc: subprocess.Popen[bytes] | None = None
        self._out: asyncio.WriteTransport | None = None
        self._pending: dict[int, asyncio.Future[tuple[dict[str, Any], bytes]]] = {}
        self._asked = 0
        self._starting: asyncio.Lock | None = None
        self._waker: asyncio.Task[None] | None = None
        self.clock = time.monotonic
        self.starts = 0  # reader processes started
        self.failures = 0  # of them, in a row, the ones that died before sending anything
        self.retry_at = 0.0  # no new start before this (clock), after a failed one
        self._heard = False  # the running reader sent a frame

    # -- the process ------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._out is not None and not self._out.is_closing()

    async def start(self) -> int:
        """The reader is running (started now if need be); returns its generation."""
        if self.running:
            return self.generation
        if self._starting is None:
            self._starting = asyncio.Lock()
        async with self._starting:
            if not self.running:
                await self._spawn()
        return self.generation

    async def _spawn(self) -> None:
        loop = asyncio.get_running_loop()
        wait = self.retry_at - self.clock()
        if wait > 0:
            raise ReaderGone(f"the console's reader process failed to start {self.failures} "
                             f"time(s) in a row; the next try is in {math.ceil(wait)} s",
                             wait)
        self._reap()
        env = {k: v for k, v in os.environ.items() if k in KEEP_ENV}
        env["PYTHONPATH"] = os.pathsep.join(
            [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])
        self.starts += 1
        try:
            where = str(self.calls_dir) if self.calls_dir is not None else ""
            proc = subprocess.Popen(
                [sys.executable, *READER, where],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env, close_fds=True)
        except OSError as exc:
            delay = self._failed_start(exc.strerror or type(exc).__name__)
            raise ReaderGone("the console's reader process could not start", delay) from None
        assert proc.stdin is not None and proc.stdout is not None
        self.generation += 1
        self._heard = False
        self._proc = proc
        generation = self.generation
        await loop.connect_read_pipe(lambda: _Pipe(self, generation), proc.stdout)
        self._out, _ = await loop.connect_write_pipe(asyncio.Protocol, proc.stdin)
        self.watchers = 0
        self.followed.clear()

    def _reap(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(1.0)

    def _failed_start(self, reason: str) -> float:
        """A reader could not start: no other start for a while (doubling); logged."""
        self.failures += 1
        delay = min(BACKOFF[1], BACKOFF[0] * 2 ** (self.failures - 1))
        self.retry_at = self.clock() + delay
        log.error("the console's reader process failed to start (%s), %d time(s) in a row: "
                  "console requests get 503 for %.0f s, then it is started again", reason,
                  self.failures, delay)
        return delay

    def _lost(self, generation: int) -> None:
        """The reader of `generation` is gone: fail its requests, end its streams."""
        if generation != self.generation or self._out is None:
            return
        out, self._out = self._out, None
        out.close()
        code = self._proc.poll() if self._proc is not None else None
        exit_code = f" (exit {code})" if code is not None else ""
        delay = 2.0
        if not self._heard:  # it never got going: back off before the next start
            delay = self._failed_start(f"it ended before sending anything{exit_code}")
        else:
            self.failures = 0
            log.warning("the console's reader process stopped%s: its viewers reconnect and "
                        "the next console request starts another", exit_code)
        if self._proc is not None and code is None:
            self._proc.kill()
        for future in self._pending.values():
            if not future.done():
                future.set_exception(ReaderGone("the console's reader process stopped",
                                                delay))
        self._pending.clear()
        self.generation += 1  # streams of the lost reader see the change and end
        self._wake_all()

    def _wake(self) -> None:
        """Every stream looks again (what it waits on, whether it should end)."""
        self.live_changed.set()
        self.live_changed = asyncio.Event()
        for followed in self.followed.values():
            followed.changed.set()
            followed.changed = asyncio.Event()

    def _wake_all(self) -> None:
        self._wake()
        self.followed.clear()
        self.watchers = 0

    async def _waking(self) -> None:
        while self.watchers > 0:
            await asyncio.sleep(WAKE)
            self._wake()

    async def close(self) -> None:
        """End the reader (it exits once its stdin closes) and every stream."""
        if self._out is not None:
            self._out.close()
            self._out = None
        proc, self._proc = self._proc, None
        self.generation += 1
        self._wake_all()
        if self._waker is not None:
            self._waker.cancel()
        if proc is not None:
            try:
                await asyncio.to_thread(proc.wait, 5.0)
            except subprocess.TimeoutExpired:
                proc.kill()
                await asyncio.to_thread(proc.wait)

    # -- talking to it ----------------------------------------------------------------------
    def _send(self, message: dict[str, Any]) -> None:
        out = self._out
        if out is None:
            raise ReaderGone("the console's reader process is not running")
        if out.get_write_buffer_size() > MAX_PENDING:
            log.error("the console's reader takes no requests: restarting it")
            self._lost(self.generation)
            raise ReaderGone("the console's reader process was stuck")
        out.write(request(message))

    async def ask(self, message: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
        """The reader's answer (head, body) to one request."""
        await self.start()
        self._asked += 1
        number = self._asked
        future = self._pending[number] = asyncio.get_running_loop().create_future()
        try:
            self._send({**message, "r": number})
            head, body = await asyncio.wait_for(future, ASK)
        except TimeoutError:
            raise ReaderGone(f"the console's reader did not answer within {ASK:.0f} s") \
                from None
        finally:
            self._pending.pop(number, None)
        if "error" in head:
            raise ReaderGone(f"the console's reader failed: {head['error']}")
        return head, body

    def _dispatch(self, head: dict[str, Any], body: bytes) -> None:
        self._heard = True
        kind = head.get("f")
        if kind == "live":
            self.live = body
            self.live_changed.set()
            self.live_changed = asyncio.Event()
        elif kind == "items":
            followed = self.followed.get(head.get("key", ""))
            if followed is not None:
                followed.add(int(head["s"]), int(head["e"]), bool(head.get("done")), body)
        elif kind == "reply":
            future = self._pending.get(head.get("r", -1))
            if future is not None and not future.done():
                future.set_result((head, body))

    # -- viewers ----------------------------------------------------------------------------
    def watch(self, generation: int, by: int) -> None:
        """A stream of the reader `generation` opens (`by` 1) or closes (-1)."""
        if generation != self.generation:
            return
        self.watchers = max(0, self.watchers + by)
        with contextlib.suppress(ReaderGone):
            self._send({"op": "watch", "by": by})
        if self.watchers and (self._waker is None or self._waker.done()):
            self._waker = asyncio.get_running_loop().create_task(self._waking(),
                                                                 name="console-wake")

    def follow(self, generation: int, key: str) -> Followed:
        followed = self.followed.get(key)
        if followed is None:
            followed = self.followed[key] = Followed()
        followed.viewers += 1
        if followed.viewers == 1 and generation == self.generation:
            with contextlib.suppress(ReaderGone):
                self._send({"op": "follow", "key": key, "by": 1})
        return followed

    def unfollow(self, generation: int, key: str) -> None:
        followed = self.followed.get(key)
        if generation != self.generation or followed is None:
            return
        followed.viewers -= 1
        if followed.viewers <= 0:
            del self.followed[key]
            with contextlib.suppress(ReaderGone):
                self._send({"op": "follow", "key": key, "by": -1})
