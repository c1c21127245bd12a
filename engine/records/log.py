"""The event-log format (version 1): one JSON object per line, appended as the call goes,
in a gzip stream flushed after every line (`zcat CALL.jsonl.gz | jq .` reads it).

    {"v":1,"k":"call","id":"CA…","start":1733090000.123,"flow":"3f…","flow_path":"flows.yaml"}
    {"k":"ev","t":0.0,"e":"call.started","d":{"caller":"+1…"},"b":"","a":"greeting",
     "x":["say greeting"]}                              (one line in the file)
    {"k":"say","t":0.0,"id":"s1","text":"Thank you for calling…","end":0.41}
    {"k":"reply","t":3.2,"q":"where are you","o":[[3.5,"We are at 12 Main St."]],"end":3.9}
    {"k":"tool","t":5.1,"name":"book_appointment","args":{…},"ok":1,"res":{…},"end":5.2}
    {"k":"transfer","t":9.0,"to":"+1…","ok":0,"err":["ConnectionError","…"],"end":9.3}
    {"k":"end","t":12.4,"state":"ended"}

`t` and `end` are seconds from the start of the call. `ev` is one handled event, as in the
call's trace: `b`efore and `a`fter state (`a` omitted when unchanged), effects `x`, note
`n`, `h: 0` when the machine did not handle it, `tm` when the state timer changed with it
(`[event, seconds left]` armed, `0` none armed). The header's `pid` and `host` name the
process that writes the log (the console tells a live call from one whose worker died). A
log stops at 16 MB (a flood of events) with `{"k":"full"}`. Brain replies list their items
with the time each came out (`[t, "sentence"]` or `[t, {"tool": name, "args": …, "id":
…}]`); `cut: 1` means the reply was cancelled there (barge-in); `err` is `[exception type,
message]`. Lines are compact UTF-8 JSON (orjson). The lines of each event-loop iteration are
compressed and sync-flushed together right after it, one batch per log, every log of the
loop drained by one callback, a long batch in slices of a millisecond (each a complete
deflate block: readable without what follows), so a `kill -9` loses at most the lines not
yet handed over (those of the iteration it interrupted, or of a batch not done) and a torn
last line, which the reader skips; the fsync runs on the transcripts' background syncer. The gzip
stream keeps an 8 KB window (48 KB of zlib state per call) and makes a log about six times
smaller than plain lines.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
import zlib
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from engine.trace import Trace, TraceEntry
from engine.transcripts import SYNCER, Syncer

log = logging.getLogger("dialflow.records")
FORMAT_VERSION = 1
SUFFIX = ".jsonl.gz"
GZIP_WBITS = 16 + 13  # a gzip stream with an 8 KB window
MEM_LEVEL = 5
MAX_LINE = 256 * 1024  # a longer line is a bug or an attack: it is dropped, not read
MAX_LOG_BYTES = 16 * 1024 * 1024  # per call, before compression (a 5-minute call: ~150 KB)
PUMP_SLICE = 0.001  # seconds of writing the loop does in one go (a batch of many logs)


def stem_of(path: Path) -> str:
    """`CA1-3f2a….jsonl.gz` -> `CA1-3f2a…`: the name a call's other records share."""
    return path.name[:-len(SUFFIX)] if path.name.endswith(SUFFIX) else path.stem


_ORJSON_OPTIONS = (orjson.OPT_APPEND_NEWLINE | orjson.OPT_NON_STR_KEYS
                   | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME)


def encode_line(record: dict[str, Any]) -> bytes:
    """One record as a line of UTF-8 JSON, newline included. orjson writes what the standard
    encoder wrote (compact, UTF-8, anything else as `str()`: dataclasses, dates, sets), ten
    times faster; what it refuses (integers beyond 64 bits, lone surrogates) goes through the
    standard encoder, with non-ASCII escaped, so the line is still written. (A NaN becomes
    `null`, which JSON readers other than Python's can read.)"""
    try:
        return orjson.dumps(record, default=str, option=_ORJSON_OPTIONS)
    except TypeError:
        return (json.dumps(record, separators=(",", ":"), default=str) + "\n").encode("ascii")


class _Pump:
    """The writers of one event loop with lines pending: drained together by one callback
    right after the loop iteration that wrote them (one scheduled callback per iteration for
    all the calls, not one per call). A long batch (a loop iteration that ran long, so many
    logs wrote) goes in slices of `PUMP_SLICE` seconds, the next slice in the next pass, so
    the loop sees its sockets in between."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.writers: deque[EventLogWriter] = deque()

    def add(self, writer: EventLogWriter) -> None:
        if not self.writers:
            self.loop.call_soon(self.run)
        self.writers.append(writer)

    def run(self) -> None:
        writers = self.writers
        deadline = time.perf_counter() + PUMP_SLICE
        while writers:
            writers.popleft().drain()
            if writers and time.perf_counter() > deadline:
                self.loop.call_soon(self.run)
                return


_local = threading.local()  # this thread's `_Pump` (a thread runs one loop at a time)


def _pump(loop: asyncio.AbstractEventLoop) -> _Pump:
    pump: _Pump | None = getattr(_local, "pump", None)
    if pump is None or pump.loop is not loop:
        pump = _local.pump = _Pump(loop)
    return pump


class EventLogWriter:
    """Appends lines to one call's log; never raises into the call (a full disk is logged).

    A line is encoded at once (the record may change after). On an event loop, the lines
    of one loop iteration are compressed and written together right after it, by one
    callback for every log of that loop (`_Pump`): one sync flush and one write per log
    and iteration instead of per line, and no I/O inside the handling of an event. Without a
    running loop each line is written at once."""

    def __init__(self, path: Path, syncer: Syncer = SYNCER):
        self.path = path
        self._syncer = syncer
        self._file = path.open("xb", buffering=0)  # each batch is one write: no buffer
        self._zip = zlib.compressobj(6, zlib.DEFLATED, GZIP_WBITS, MEM_LEVEL)
        self._pending = bytearray()  # (orjson's bytes keep a 4 KB buffer: not held)
        self._queued: _Pump | None = None  # the pump that will drain `_pending`
        self.closed = False
        self.full = False
        self.bytes = 0  # plain bytes accepted (before compression)

    def write(self, record: dict[str, Any]) -> None:
        if self.closed or self.full:
            return
        line = encode_line(record)
        if self.bytes + len(line) > MAX_LOG_BYTES or len(line) > MAX_LINE:
            self.full = True  # a flood (or a bug): say so once and keep the call going
            line = b'{"k":"full"}\n'
            log.error("event log %s: over %d bytes or an oversized line: recording stops",
                      self.path.name, MAX_LOG_BYTES)
        self._pending += line
        self.bytes += len(line)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.drain()
            return
        queued = self._queued
        if queued is None or queued.loop is not loop:
            self._queued = pump = _pump(loop)
            pump.add(self)

    def drain(self) -> None:
        """Write what is pending: compressed, sync-flushed, handed to the OS."""
        self._queued = None
        if not self._pending:
            return
        data = self._zip.compress(self._pending) + self._zip.flush(zlib.Z_SYNC_FLUSH)
        self._pending.clear()
        try:  # in the OS from here: survives the process being killed
            self._write(data)
        except (OSError, ValueError) as exc:
            log.error("event log %s: write failed: %s", self.path.name, exc)
            return
        self._syncer.dirty(self._file)  # type: ignore[arg-type]

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:  # a regular file takes it all, but a short write is not an error
            written = self._file.write(view)
            if not written:
                raise OSError(f"the file took none of {len(view)} bytes")
            view = view[written:]

    def close(self) -> None:
        if not self.closed:
            self.drain()
            self.closed = True
            try:
                self._write(self._zip.flush())  # the gzip trailer: the log is complete
            except (OSError, ValueError) as exc:
                log.error("event log %s: close failed: %s", self.path.name, exc)
            self._syncer.close(self._file)  # type: ignore[arg-type]


def entry_record(entry: TraceEntry, t: float) -> dict[str, Any]:
    """A trace entry as a compact `ev` line (defaults left out)."""
    rec: dict[str, Any] = {"k": "ev", "t": round(t, 4), "e": entry.event}
    if entry.data:
        rec["d"] = entry.data
    rec["b"] = entry.before
    if entry.after != entry.before:
        rec["a"] = entry.after
    if entry.effects:
        rec["x"] = list(entry.effects)
    if entry.note:
        rec["n"] = entry.note
    if not entry.handled:
        rec["h"] = 0
    return rec


def entry_of(rec: dict[str, Any]) -> TraceEntry:
    before = str(rec.get("b", ""))
    return TraceEntry(float(rec.get("t", 0.0)), str(rec["e"]), dict(rec.get("d") or {}),
                      before, str(rec.get("a", before)), list(rec.get("x") or []),
                      str(rec.get("n", "")), bool(rec.get("h", 1)))


def parse_line(line: str | bytes) -> Any:
    """One line's JSON (orjson; the standard parser for what orjson refuses but older
    writers wrote: NaN, integers beyond 64 bits). Raises ValueError."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError:
        return json.loads(line)


class LogInvalid(Exception):
    """A file that is not a dialflow event log (or of a version this code cannot read)."""


@dataclass
class CallLog:
    """A parsed event log: the header, the recorded trace and the recorded answers."""

    path: Path
    header: dict[str, Any]
    entries: list[TraceEntry] = field(default_factory=list)
    answers: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    end: dict[str, Any] | None = None
    torn: int = 0  # lines skipped (a crash mid-write)
    full: bool = False  # the log reached its size cap; what follows was not recorded

    @property
    def call_id(self) -> str:
        return str(self.header.get("id", self.path.stem))

    @property
    def flow_version(self) -> str:
        return str(self.header.get("flow", "unknown"))

    @property
    def duration(self) -> float:
        last = self.entries[-1].at if self.entries else 0.0
        return float(self.end["t"]) if self.end else last

    def trace(self) -> Trace:
        trace = Trace()
        for entry in self.entries:
            trace.add(entry)
        return trace

    def of(self, kind: str) -> list[dict[str, Any]]:
        return self.answers.get(kind, [])


def read_lines(path: Path, limit: int | None = None) -> list[str]:
    """The log's lines; a stream cut off by a crash gives what was flushed before it.
    `limit` stops after that many bytes of text (enough for the header)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise LogInvalid(f"{path}: cannot read: {exc.strerror}") from None
    unzip = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        text = unzip.decompress(data, limit or 0)
    except zlib.error:
        text = b""
    if not text:
        raise LogInvalid(f"{path}: not a dialflow event log (not a gzip stream)")
    return text.decode("utf-8", errors="replace").splitlines(keepends=True)


def read_log(path: str | Path) -> CallLog:
    """Parse a log; torn or oversized lines are skipped and counted, never fatal."""
    path = Path(path)
    lines = read_lines(path)
    records: list[dict[str, Any]] = []
    torn = 0
    for line in lines:
        if len(line) > MAX_LINE or not line.endswith("\n"):
            torn += 1
            continue
        try:
            rec = parse_line(line)
        except ValueError:
            torn += 1
            continue
        if isinstance(rec, dict) and isinstance(rec.get("k"), str):
            records.append(rec)
        else:
            torn += 1
    if not records or records[0].get("k") != "call":
        raise LogInvalid(f"{path}: not a dialflow event log (no header line)")
    header = records[0]
    if header.get("v") != FORMAT_VERSION:
        raise LogInvalid(f"{path}: event-log format version {header.get('v')!r}; this "
                         f"dialflow reads version {FORMAT_VERSION}")
    out = CallLog(path, header, torn=torn)
    for rec in records[1:]:
        kind = rec["k"]
        try:
            if kind == "ev":
                out.entries.append(entry_of(rec))
            elif kind == "end":
                out.end = rec
            elif kind == "full":
                out.full = True
            else:
                out.answers.setdefault(kind, []).append(rec)
        except (KeyError, TypeError, ValueError):
            out.torn += 1
    for items in out.answers.values():
        items.sort(key=lambda r: float(r.get("t", 0.0)))
    return out
