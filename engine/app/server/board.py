"""`WorkerBoard`: what each worker process of `dialflow serve --workers N` is doing, in one
small table of shared memory that every worker reads, so `/health` answers for the machine
whichever worker the request lands on.

The supervisor creates the board before it forks the workers (an anonymous shared mapping,
inherited by each child). Each worker owns one row and rewrites it a few times a second
(`WorkerSlot.publish`); the supervisor clears a row when its worker exits. A row whose
heartbeat is older than `STALE_SECONDS` belongs to a hung or dead worker and does not count.
Each field is an aligned 64-bit integer, so a reader never sees a torn value. No I/O.
"""

from __future__ import annotations

import mmap
import os
import struct
import time
from dataclasses import dataclass
from pathlib import Path

FIELDS = ("pid", "serving", "accepting", "active_calls", "media_sockets", "max_calls",
          "flow_version", "heartbeat_ms")
ROW = struct.Struct(f"<{len(FIELDS)}q")
STALE_SECONDS = 3.0


def monotonic_ms() -> int:
    return int(time.monotonic() * 1000)  # CLOCK_MONOTONIC: one clock for every process


@dataclass(frozen=True)
class WorkerState:
    index: int
    pid: int
    serving: bool
    accepting: bool
    active_calls: int
    media_sockets: int
    max_calls: int
    flow_version: int
    heartbeat_ms: int

    @property
    def full(self) -> bool:
        return self.media_sockets >= self.max_calls

    def fresh(self, now_ms: int | None = None) -> bool:
        now_ms = monotonic_ms() if now_ms is None else now_ms
        return self.pid > 0 and now_ms - self.heartbeat_ms <= STALE_SECONDS * 1000

    def describe(self) -> dict[str, int | bool]:
        return {"index": self.index, "pid": self.pid, "serving": self.serving,
                "accepting": self.accepting, "active_calls": self.active_calls,
                "media_sockets": self.media_sockets, "flow_version": self.flow_version}


class WorkerBoard:
    """`size` rows in memory shared with every process forked after it was made."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._map = mmap.mmap(-1, ROW.size * size)  # MAP_SHARED | MAP_ANONYMOUS

    def write(self, index: int, **values: int) -> None:
        ROW.pack_into(self._map, index * ROW.size, *(int(values.get(f, 0)) for f in FIELDS))

    def clear(self, index: int) -> None:
        self._map[index * ROW.size:(index + 1) * ROW.size] = bytes(ROW.size)

    def read(self, index: int) -> WorkerState:
        values = ROW.unpack_from(self._map, index * ROW.size)
        row = dict(zip(FIELDS, values, strict=True))
        for flag in ("serving", "accepting"):
            row[flag] = bool(row[flag])
        return WorkerState(index=index, **row)  # type: ignore[arg-type]

    def rows(self) -> list[WorkerState]:
        return [self.read(i) for i in range(self.size)]


@dataclass
class WorkerSlot:
    """One worker's view of the board: its own row to write, everyone's to read; and the
    server's private runtime directory (the call registry, the workers' sockets)."""

    board: WorkerBoard
    index: int
    runtime: Path | None = None

    def alive(self, index: int) -> bool:
        """Worker `index` serves now (a fresh row)."""
        row = self.board.read(index)
        return row.serving and row.fresh()

    def holds_calls(self, index: int) -> bool:
        """Worker `index`'s process is there (its row names a pid that exists), serving,
        draining or just slow to beat: the worker to route its calls' callbacks to. A late
        heartbeat under load must not orphan its calls; the supervisor clears a dead one."""
        pid = self.board.read(index).pid
        if pid <= 0:
            return False
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def publish(self, *, serving: bool, accepting: bool, active_calls: int, media_sockets: int,
                max_calls: int, flow_version: int) -> None:
        self.board.write(self.index, pid=os.getpid(), serving=serving, accepting=accepting,
                         active_calls=active_calls, media_sockets=media_sockets,
                         max_calls=max_calls, flow_version=flow_version,
                         heartbeat_ms=monotonic_ms())

    def others(self) -> list[WorkerState]:
        """The other workers that are alive and serving now."""
        now = monotonic_ms()
        return [row for row in self.board.rows()
                if row.index != self.index and row.serving and row.fresh(now)]
