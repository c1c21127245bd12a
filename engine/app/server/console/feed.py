"""`LogFeed`: the live calls, read from their event logs as the server writes them.

Every server process (each worker of `serve --workers N`) writes each call's event log to
the shared data directory and flushes it after every event-loop pass (a complete deflate
block: readable while the call goes on). The console reads those files rather than the
calls themselves, so whichever worker a viewer's request lands on sees every worker's
calls, and a call pays nothing for being watched: no hook on its path, no queue, no lock.

`LogTail` reads one log incrementally (its own decompressor, the offset read so far, the
unfinished last line: only new bytes are read, each line is parsed and folded once) into a
`CallView`. `LogFeed.refresh` is one pass over the live logs: it reads what each live log a
call page follows gained (the others every `LIST_POLL` seconds: the live list is pushed no
more often; at most `MAX_READ` bytes per log per pass; a log with nothing new costs one
stat), and every `SCAN` seconds looks for new logs by name (one whose gzip stream is already
closed is a past call, told from its last four bytes, not read). A log whose header names a
process of this host that is gone is shown as cut off. Synchronous, no event loop: it runs
in the console's reader process (`reader.py`), never on the loop that serves the calls.
Touches: reads the data directory, nothing else.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
import zlib
from pathlib import Path
from typing import Any

from engine.records.log import MAX_LINE, SUFFIX, parse_line, stem_of

from .view import CallView

POLL = 0.5  # seconds between reads of the live logs a call page follows
LIST_POLL = 1.0  # seconds between reads of the others (the live list is pushed once a second)
SCAN = 1.0  # seconds between looks for new logs
MAX_READ = 256 * 1024  # compressed bytes read from one log per pass
MAX_TEXT = 64 * 1024 * 1024  # decompressed bytes of one log ever read (the writer caps 16 MB)
KEEP_ENDED = 120.0  # seconds an ended call stays in memory for the viewers watching it
STALE = 3600.0  # a log without news for this long is not live any more
RECENT = 600.0  # when the console first looks, logs changed within this long may be live
PID_CHECK = 2.0  # seconds between checks that a live log's process still runs
HOST = socket.gethostname()
SYNC_MARK = b"\x00\x00\xff\xff"  # how a zlib sync flush ends


class LogTail:
    """One event log, read as far as it has been written."""

    def __init__(self, path: Path, light: bool = False):
        self.path = path
        self.view = CallView(stem_of(path), light=light)  # light: its list row only
        self.offset = 0
        self.text_bytes = 0
        self._unzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._partial = b""
        self.broken = ""  # why the rest of this file cannot be read
        self.ended_at = 0.0  # monotonic time it was seen to end
        self.checked_at = 0.0

    def read(self, limit: int = MAX_READ) -> bool:
        """Read what was added since the last call (at most `limit` compressed bytes);
        True when the view changed."""
        if self.broken:
            return False
        try:
            if self.path.stat().st_size <= self.offset:
                return False  # nothing new: a stat, not an open and a read
            with self.path.open("rb") as f:
                f.seek(self.offset)
                data = f.read(limit)
        except OSError as exc:
            self.broken = f"cannot read: {exc.strerror}"
            return False
        if not data:
            return False
        self.offset += len(data)
        try:
            text = self._unzip.decompress(data)
        except zlib.error:
            self.broken = "not a readable gzip stream"
            return False
        self.text_bytes += len(text)
        if self.text_bytes > MAX_TEXT:
            self.broken = "over the size an event log may have"
            return False
        lines = (self._partial + text).split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) > MAX_LINE:
            self._partial = b""  # an oversized line is skipped, as the reader does
        before = self._mark()
        for line in lines:
            if not line or len(line) > MAX_LINE:
                continue
            try:
                rec = parse_line(line)
            except ValueError:
                continue
            if isinstance(rec, dict):
                self.view.apply(rec)
        return self._mark() != before

    def _mark(self) -> tuple[Any, ...]:
        view = self.view
        return len(view.items), view.state, view.ended, view.timer, view.turns

    def whole(self) -> LogTail:
        """This log read again with every item (a call page follows it now), keeping what
        was learnt of it from outside (cut off, unreadable)."""
        tail = LogTail(self.path)
        tail.read_all()
        tail.ended_at, tail.checked_at = self.ended_at, self.checked_at
        if self.view.ended and not tail.view.ended:
            tail.view.ended, tail.view.timer = self.view.ended, None
        return tail

    def read_all(self) -> CallView:
        while self.read():
            pass
        while not self.broken and self.read():  # a pass that only completed a line
            pass
        return self.view

    def process_gone(self) -> bool:
        """The log's writer ran on this host and is no longer running."""
        pid, host = self.view.pid, self.view.host
        if pid <= 0 or host != HOST or pid == os.getpid():
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False  # alive, owned by someone else
        return False


def closed(path: Path) -> bool:
    """The log's gzip stream is complete (its writer closed it: the call ended), told from
    its last bytes without decompressing: a log still written ends with the empty stored
    block of a sync flush."""
    with path.open("rb") as f:
        f.seek(0, os.SEEK_END)
        if f.tell() < 4:
            return False
        f.seek(-4, os.SEEK_END)
        return f.read(4) != SYNC_MARK


class LogFeed:
    """The live calls under one `calls` directory, kept current by `refresh` (run by the
    console's reader process, `reader.py`, every `POLL` seconds while viewers watch)."""

    def __init__(self, directory: Path | None):
        self.directory = directory
        self.tails: dict[str, LogTail] = {}
        self._seen: set[str] = set()
        self._since = time.time() - RECENT
        self.followed: dict[str, int] = {}  # key -> call pages following it
        self._last_all = 0.0
        self._last_scan = 0.0
        self.passes = 0
        self.refreshed_at = 0.0  # monotonic time of the last pass
        self.version = 0  # passes that changed something

    def follow(self, key: str, by: int = 1) -> None:
        """A call page starts (`by` 1) or stops (-1) following `key`: read it every pass."""
        count = self.followed.get(key, 0) + by
        if count > 0:
            self.followed[key] = count
            tail = self.tails.get(key)
            if tail is not None and tail.view.light:
                self.tails[key] = tail.whole()  # its items, from the start, once
        else:
            self.followed.pop(key, None)

    # -- reading ----------------------------------------------------------------------------
    def refresh(self) -> bool:
        """One pass: look for new logs (every `SCAN` s), read what each live one gained
        (followed ones every pass, the others every `LIST_POLL` s); True when it changed
        something."""
        if self.directory is None:
            return False
        now = time.monotonic()
        if now - self._last_scan >= SCAN:
            self._last_scan = now
            for tail in self._scan():
                key = tail.view.key
                if key not in self.tails:  # followed before it was found: read whole
                    self.tails[key] = tail.whole() if key in self.followed else tail
        changed = False
        everyone = now - self._last_all >= LIST_POLL - POLL / 2
        if everyone:
            self._last_all = now
        for key, tail in list(self.tails.items()):
            if not everyone and key not in self.followed:
                continue
            changed |= self._read(tail, now)
            if tail.ended_at and now - tail.ended_at > KEEP_ENDED:
                del self.tails[key]
        self.passes += 1
        self.refreshed_at = now
        if changed:
            self.version += 1
        return changed

    def _read(self, tail: LogTail, now: float) -> bool:
        changed = tail.read()
        view = tail.view
        if view.ended or tail.ended_at:
            if not tail.ended_at:
                tail.ended_at = now
            return changed
        if now - tail.checked_at >= PID_CHECK:
            tail.checked_at = now
            reason = ""
            if tail.broken:
                reason = f"log unreadable: {tail.broken}"
            elif tail.process_gone():
                reason = "cut off: its server process is gone"
            else:
                with contextlib.suppress(OSError):
                    if time.time() - tail.path.stat().st_mtime > STALE:
                        reason = "no news for an hour"
            if reason:
                view.ended, view.timer, tail.ended_at = reason, None, now
                return True
        return changed

    def _scan(self) -> list[LogTail]:
        """The logs that appeared since the last scan and have not ended."""
        found: list[LogTail] = []
        try:
            names = [e.name for e in os.scandir(self.directory) if e.name.endswith(SUFFIX)]
        except OSError:
            return found
        for name in names:
            if name in self._seen:
                continue
            self._seen.add(name)
            path = self.directory / name  # type: ignore[operator]
            try:
                if path.stat().st_mtime < self._since or closed(path):
                    continue
            except OSError:
                continue
            tail = LogTail(path, light=True)  # the list's row until a page follows it
            tail.read()
            if not tail.view.ended:  # one that ended before we looked is a past call
                found.append(tail)
        return found

    def finished(self) -> dict[str, CallView]:
        """Calls seen to end by their own `end` record: the past-calls list takes their
        rows from here instead of reading their logs again."""
        return {key: t.view for key, t in self.tails.items() if t.view.end_record}

    def live(self) -> list[CallView]:
        """The calls in progress, oldest first."""
        return sorted((t.view for t in self.tails.values() if not t.view.ended),
                      key=lambda v: v.started)

    def get(self, key: str) -> LogTail | None:
        return self.tails.get(key)
