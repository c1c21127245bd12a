"""Finding call logs and summarising them: what `dialflow calls list` and `calls show` print.

A call is named on the command line by a log file or by its call id (looked up under the
data directory through the same safe name the server wrote it under). `redact` (handed in by
the command) masks the caller's number in everything printed.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from engine.records.log import SUFFIX, CallLog, LogInvalid, read_log
from engine.transcripts import file_stem as safe_name


def find_log(ref: str, calls_dir: Path) -> Path:
    """A log file path as given, or the newest log of call id `ref` under `calls_dir`."""
    path = Path(ref)
    if path.is_file():
        return path
    stem = safe_name(ref)
    found = sorted(calls_dir.glob(f"{stem}*{SUFFIX}"), key=lambda p: p.stat().st_mtime)
    found = [p for p in found if p.name == f"{stem}{SUFFIX}" or p.name.startswith(f"{stem}.")]
    if not found:
        raise LogInvalid(f"no event log for {ref!r}: not a file, and no call with that id "
                         f"under {calls_dir} (see `dialflow calls list`)")
    return found[-1]


def logs_in(directory: Path) -> list[Path]:
    return sorted(directory.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime)


@dataclass
class CallSummary:
    log: CallLog
    started: str
    caller: str
    duration: float
    end_state: str
    turns: int
    tools: list[str] = field(default_factory=list)
    transfer: str = "-"
    latency_p50_ms: float | None = None

    def row(self) -> list[str]:
        p50 = f"{self.latency_p50_ms:.0f} ms" if self.latency_p50_ms is not None else "-"
        return [self.started, self.log.call_id, self.caller, f"{self.duration:.1f}s",
                self.end_state, str(self.turns), ",".join(self.tools) or "-", self.transfer,
                p50]


HEADERS = ["started", "call", "caller", "duration", "end", "turns", "tools", "transfer",
           "p50 first frame"]


def summarise(log: CallLog, redact: Callable[[str], str]) -> CallSummary:
    start = float(log.header.get("start") or 0.0)
    started = dt.datetime.fromtimestamp(start).strftime("%Y-%m-%d %H:%M:%S") if start else "?"
    end_state = str(log.end["state"]) if log.end else (
        f"{log.entries[-1].after} (no end: cut off)" if log.entries else "-")
    turns = sum(1 for e in log.entries if e.event == "caller.utterance")
    tools = sorted({str(r.get("name")) for r in log.of("tool")})
    transfers = log.of("transfer")
    transfer = "-" if not transfers else "done" if any(r.get("ok") for r in transfers) \
        else "failed"
    frames = [float(r["ms"]["first_frame"]) for r in log.of("turn")
              if isinstance(r.get("ms"), dict) and "first_frame" in r["ms"]]
    p50 = statistics.median(frames) if frames else None
    return CallSummary(log, started, redact(str(log.header.get("caller", ""))), log.duration,
                       end_state, turns, tools, transfer, p50)


def table(rows: list[list[str]], headers: list[str]) -> str:
    widths = [max(len(r[i]) for r in [headers, *rows]) for i in range(len(headers))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
             for r in [headers, *rows]]
    return "\n".join(lines)


def timeline(log: CallLog, redact: Callable[[str], str]) -> str:
    """The call as it happened: state changes, caller and agent lines, turn latencies."""
    items: list[tuple[float, int, str]] = []
    for entry in log.entries:
        if entry.event == "caller.utterance":
            items.append((entry.at, 1, f"caller: {redact(str(entry.data.get('text', '')))}"))
        elif entry.event == "caller.dtmf":
            items.append((entry.at, 1, f"caller presses {entry.data.get('digit', '?')}"))
        if entry.handled and entry.after != entry.before and entry.before:
            items.append((entry.at, 2, f"  [{entry.before} -> {entry.after} on {entry.event}]"))
        elif not entry.before and entry.handled:
            items.append((entry.at, 2, f"  [{entry.after}]"))
    for rec in log.of("say"):
        cut = " (cut off)" if rec.get("cut") else " (failed)" if rec.get("err") else ""
        items.append((float(rec["t"]), 3, f"agent: {redact(str(rec.get('text', '')))}{cut}"))
    for rec in log.of("tool"):
        ok = "ok" if rec.get("ok") else f"failed: {rec.get('err') or rec.get('raised')}"
        items.append((float(rec["t"]), 3, f"  tool {rec.get('name')} -> {ok}"))
    for rec in log.of("transfer"):
        ok = "connected" if rec.get("ok") else f"failed: {rec.get('err')}"
        items.append((float(rec["t"]), 3, f"  transfer -> {ok}"))
    for rec in log.of("turn"):
        stages = ", ".join(f"{k} {v:.0f}" for k, v in (rec.get("ms") or {}).items())
        items.append((float(rec["t"]), 4, f"  turn {rec.get('n')} latency (ms): {stages}"))
    items.sort(key=lambda i: (i[0], i[1]))
    return "\n".join(f"{at:8.3f}  {text}" for at, _, text in items)


def load_all(paths: list[Path]) -> tuple[list[CallLog], list[str]]:
    logs, errors = [], []
    for path in paths:
        try:
            logs.append(read_log(path))
        except LogInvalid as exc:
            errors.append(str(exc))
    return logs, errors
