"""`TypedLines`: the caller's lines typed at the terminal during `dialflow call --interactive`.

Reads standard input without a thread (the loop watches the file descriptor), so waiting for
the next line can stop as soon as the call ends: the agent may hang up while the caller is
still at the prompt. Works on a terminal and on a pipe. Touches stdin only.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
from collections.abc import Awaitable


class TypedLines:
    def __init__(self, fd: int | None = None) -> None:
        self.fd = sys.stdin.fileno() if fd is None else fd
        self._buffer = b""
        self._eof = False

    async def next(self, call_ended: Awaitable[object]) -> str | None:
        """The next line without its newline; None at end of input or when `call_ended`
        completes first (the line being typed is then left unread)."""
        line = self._take()
        if line is not None or self._eof:
            return line
        loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = loop.create_future()

        def readable() -> None:
            data = os.read(self.fd, 4096)
            self._buffer += data
            self._eof = not data
            if (self._eof or b"\n" in self._buffer) and not ready.done():
                ready.set_result(None)

        ended = asyncio.ensure_future(call_ended)
        loop.add_reader(self.fd, readable)
        try:
            await asyncio.wait({ready, ended}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            loop.remove_reader(self.fd)
            if ended is not call_ended:  # a task made here for a coroutine: ours to end
                ended.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await ended
        return self._take() if ready.done() else None

    def _take(self) -> str | None:
        if b"\n" in self._buffer:
            line, self._buffer = self._buffer.split(b"\n", 1)
        elif self._eof and self._buffer:
            line, self._buffer = self._buffer, b""
        else:
            return None
        return line.decode("utf-8", errors="replace").rstrip("\r")
