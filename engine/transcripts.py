"""`TranscriptStore`: each call's transcript as an append-only JSON-lines file, written as
the call goes, so what was said survives a crash of the process.

One line per caller utterance, per agent sentence the caller actually heard (its mark came
back), and for the call's start and end. Each line is written and flushed to the operating
system at once, on the event loop: from then on it survives the process being killed. The
`fsync` that makes it survive a power cut as well runs on one background thread per process
(`Syncer`), because a disk sync on the loop stalls every call's audio: with 200 calls and
transcripts on, it doubled the benchmark's p99 turn latency. Phone numbers are stored as the
telephony sent them (this is the business's own record); they never go to the log.

A call id is never a file name as given: a plain alphanumeric id of up to 64 characters
(Twilio's `CA…` sids) names its file directly, anything else becomes a sanitised prefix
plus a hash of the whole id, so names stay short, safe and distinct (`a/b` and `a_b` get
different files). A transcript that is open cannot be opened a second time.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

log = logging.getLogger("dialflow.transcripts")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")
_PLAIN = re.compile(r"[A-Za-z0-9]{1,64}")
PREFIX_CHARS = 36


class TranscriptBusy(RuntimeError):
    """The call id's transcript is already open for another stream."""


def file_stem(call_id: str) -> str:
    """The file name (without `.jsonl`) for `call_id`: the id itself when it is plain
    alphanumerics, else a sanitised prefix, `-` and 20 hex digits of its SHA-256. Plain
    names hold no `-`, so the two forms never meet."""
    if _PLAIN.fullmatch(call_id):
        return call_id
    digest = hashlib.sha256(call_id.encode("utf-8", "surrogatepass")).hexdigest()[:20]
    prefix = _UNSAFE.sub("_", call_id[:PREFIX_CHARS]).strip("_") or "call"
    return f"{prefix}-{digest}"
SYNC_INTERVAL = 0.1  # seconds between sync passes: a line is on disk within about this


class Syncer:
    """Fsyncs files handed to it, on its own daemon thread, a batch at a time; closes the
    files it is asked to close once their last sync is done. Only this thread closes them,
    so a sync never races a close."""

    def __init__(self, interval: float = SYNC_INTERVAL) -> None:
        self.interval = interval
        self._cond = threading.Condition()
        self._dirty: dict[int, IO[str]] = {}
        self._to_close: list[IO[str]] = []
        self._busy = False
        self._thread: threading.Thread | None = None

    def dirty(self, file: IO[str]) -> None:
        with self._cond:
            self._dirty[id(file)] = file
            self._wake()

    def close(self, file: IO[str]) -> None:
        with self._cond:
            self._to_close.append(file)
            self._wake()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Block until every file handed over so far is synced (and closed if asked)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._dirty or self._to_close or self._busy:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._cond.wait(left)
        return True

    def _wake(self) -> None:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(target=self._run, name="transcript-fsync",
                                            daemon=True)
            self._thread.start()
        self._cond.notify_all()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._dirty and not self._to_close:
                    self._busy = False
                    self._cond.notify_all()
                    self._cond.wait()
                self._busy = True
                dirty, self._dirty = list(self._dirty.values()), {}
                closing, self._to_close = self._to_close, []
            for file in dirty + closing:
                try:
                    os.fsync(file.fileno())
                except (OSError, ValueError) as exc:  # a full or failing disk: keep going
                    log.error("transcript %s: fsync failed: %s", getattr(file, "name", "?"),
                              exc)
            for file in closing:
                file.close()
            # Let go of the batch before waiting: this thread's locals held the last
            # batch's files (closed, with their buffers) until the next line was written,
            # after a burst for as long as the server stayed idle.
            del dirty, closing, file
            time.sleep(self.interval)  # group commit: fewer wake-ups, fewer GIL hand-offs


SYNCER = Syncer()


class CallTranscript:
    def __init__(self, path: Path, syncer: Syncer = SYNCER,
                 on_close: Callable[[CallTranscript], None] | None = None,
                 redact: Callable[[str], str] | None = None):
        self.path = path
        self.redact = redact  # settings.privacy.redact_transcripts: mask stored text
        self._syncer = syncer
        self._file = path.open("a", encoding="utf-8")
        self.closed = False
        self._on_close = on_close

    def write(self, kind: str, **fields: Any) -> None:
        if self.closed:
            return
        if self.redact is not None:
            fields = {k: self.redact(v) if isinstance(v, str) else v for k, v in fields.items()}
        line = json.dumps({"at": round(time.time(), 3), "kind": kind, **fields},
                          ensure_ascii=False)
        self._file.write(line + "\n")
        self._file.flush()  # in the OS from here: survives the process being killed
        self._syncer.dirty(self._file)

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._syncer.close(self._file)
            if self._on_close is not None:
                self._on_close(self)


class TranscriptStore:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._open: set[Path] = set()

    def open(self, call_id: str, redact: Callable[[str], str] | None = None) -> CallTranscript:
        """The transcript of `call_id`, appended to; `TranscriptBusy` while it is open.
        `redact` masks stored text (settings.privacy.redact_transcripts)."""
        path = self.directory / f"{file_stem(call_id)}.jsonl"
        if path in self._open:
            raise TranscriptBusy(f"the transcript {path.name} is already open")
        self.directory.mkdir(parents=True, exist_ok=True)
        transcript = CallTranscript(path, on_close=lambda t: self._open.discard(t.path),
                                    redact=redact)
        self._open.add(path)
        return transcript

    @staticmethod
    def sync(timeout: float = 10.0) -> bool:
        """Wait until every line written so far is on disk (at shutdown)."""
        return SYNCER.wait_idle(timeout)

    @staticmethod
    def read(path: str | Path) -> list[dict[str, Any]]:
        """The lines of a transcript; a torn last line (a crash mid-write) is skipped."""
        out = []
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            try:
                out.append(json.loads(line))
            except ValueError:
                continue
        return out
