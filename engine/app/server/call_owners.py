"""`CallOwners`: which worker of `dialflow serve --workers N` holds a call's live state, as
files in the server's runtime directory, so a Twilio callback that lands on another worker
knows where to send it (engine/app/server/forwarding.py).

A key is a short text naming what a worker holds: `call:<CallSid>` (the call's media stream
and `Call` are here, a warm transfer's caller on hold included), `dial:<id>` and
`placed:<CallSid>` (an outbound call this worker placed, engine/app/outbound). Worker `i`
owns a key when the file `<runtime>/owners/<i>/<sha256 of the key>` exists: keys are never
file names as given, and each worker writes only its own directory. A worker that dies loses
its directory: the supervisor wipes it when it reaps the worker (`wipe`), the replacement
wipes it again at start, and `owner` never answers with a worker the shared board does not
show alive. The directory is made private (0700) by the supervisor. Touches only that
directory.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import shutil
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger("dialflow.workers")
MAX_KEY = 200  # longer keys are refused: Twilio's sids are 34 characters, dial ids 22


def owners_dir(runtime: Path, index: int) -> Path:
    return runtime / "owners" / str(index)


def socket_path(runtime: Path, index: int) -> Path:
    """Where worker `index` answers the other workers (engine/app/server/internal_app.py)."""
    return runtime / f"w{index}.sock"


def wipe(runtime: Path, index: int) -> None:
    """Forget everything worker `index` owned and its socket (it exited, or restarts)."""
    shutil.rmtree(owners_dir(runtime, index), ignore_errors=True)
    with contextlib.suppress(FileNotFoundError):
        socket_path(runtime, index).unlink()


def _name(key: str) -> str:
    if not key or len(key) > MAX_KEY:
        raise ValueError(f"an owner key is 1 to {MAX_KEY} characters")
    return hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:40]


class CallOwners:
    """This worker's view: claim and release its own keys, find the owner of any key.
    `alive(i)` says whether worker i's process is there (serve passes the board's
    `holds_calls`: a pid that exists, not a fresh heartbeat, so a slow worker keeps its calls)."""

    def __init__(self, runtime: Path, index: int, workers: int,
                 alive: Callable[[int], bool]) -> None:
        self.runtime = runtime
        self.index = index
        self.workers = workers
        self.alive = alive
        self.mine = owners_dir(runtime, index)

    def start(self) -> None:
        """A fresh directory for this worker (what a dead predecessor left is gone)."""
        wipe(self.runtime, self.index)
        self.mine.mkdir(parents=True, mode=0o700)

    def claim(self, key: str) -> bool:
        """Record that this worker holds `key`; False (logged) when the disk refused."""
        try:
            (self.mine / _name(key)).touch()
        except (OSError, ValueError) as exc:
            log.error("the call registry could not record a call here: %s",
                      type(exc).__name__)
            return False
        return True

    def release(self, key: str) -> None:
        with contextlib.suppress(OSError, ValueError):
            (self.mine / _name(key)).unlink()

    def owner(self, key: str) -> int | None:
        """The live worker that holds `key` (this one included), or None: nobody holds it,
        or its worker died (whose entry is removed here if the supervisor has not yet)."""
        try:
            name = _name(key)
        except ValueError:
            return None
        if (self.mine / name).exists():
            return self.index
        for index in range(self.workers):
            if index == self.index:
                continue
            path = owners_dir(self.runtime, index) / name
            if path.exists():
                if self.alive(index):
                    return index
                log.warning("worker %d held a call but is gone: forgetting it", index)
                with contextlib.suppress(OSError):
                    path.unlink()
        return None

    def elsewhere(self, *keys: str) -> int | None:
        """The first other live worker holding one of `keys`, tried in order; None when the
        first key held is held here, or none is held by a live worker."""
        for key in keys:
            index = self.owner(key)
            if index is not None:
                return None if index == self.index else index
        return None

    def socket_of(self, index: int) -> Path:
        return socket_path(self.runtime, index)

    def describe(self) -> dict[str, int]:
        """For `/health`: this worker's index and how many keys it holds now."""
        with contextlib.suppress(OSError):
            return {"worker": self.index, "held_here": sum(1 for _ in os.scandir(self.mine))}
        return {"worker": self.index, "held_here": 0}
