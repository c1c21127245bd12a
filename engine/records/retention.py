"""Retention: delete call records older than `settings.privacy.retention_days` — event logs,
recordings, transcripts, and archived flow versions no remaining log refers to.

Age is a file's last modification (a call's record is written until the call ends). Only
files dialflow itself writes there are considered (`*.jsonl` event logs and transcripts,
`*.wav.enc` recordings, `flows/*.yaml`); anything else in those folders is left alone. Run
by the server once an hour and by `dialflow purge`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from engine.records.log import SUFFIX, LogInvalid, read_lines
from engine.records.names import FLOWS_DIR
from engine.records.privacy import DataDirs

log = logging.getLogger("dialflow.records")
DAY = 86400.0
PURGE_EVERY = 3600.0


@dataclass
class PurgeReport:
    removed: list[tuple[Path, str]] = field(default_factory=list)  # (file, kind)
    kept: int = 0
    failed: list[str] = field(default_factory=list)

    def summary(self) -> str:
        kinds: dict[str, int] = {}
        for _, kind in self.removed:
            kinds[kind] = kinds.get(kind, 0) + 1
        what = ", ".join(f"{n} {KINDS[k]}" for k, n in sorted(kinds.items())) or "nothing"
        return f"removed {what}; kept {self.kept} file(s)"


KINDS = {"calls": "event log(s)", "recordings": "recording(s)",
         "transcripts": "transcript(s)", FLOWS_DIR: "flow version(s)"}


def _candidates(dirs: DataDirs) -> list[tuple[Path, str]]:
    out: list[tuple[Path, str]] = []
    for folder, pattern, kind in ((dirs.calls, f"*{SUFFIX}", "calls"),
                                  (dirs.recordings, "*.wav.enc", "recordings"),
                                  (dirs.transcripts, "*.jsonl", "transcripts")):
        if folder.is_dir():
            out += [(p, kind) for p in sorted(folder.glob(pattern)) if p.is_file()]
    return out


def _flow_in(path: Path) -> str:
    try:
        return str(json.loads(read_lines(path, limit=4096)[0]).get("flow", ""))
    except (LogInvalid, IndexError, ValueError, AttributeError):
        return ""


def purge(dirs: DataDirs, retention_days: float, now: float | None = None,
          dry_run: bool = False) -> PurgeReport:
    """Remove what is older than `retention_days`; return what went and what stayed."""
    cutoff = (time.time() if now is None else now) - retention_days * DAY
    report = PurgeReport()
    for path, kind in _candidates(dirs):
        _consider(path, kind, cutoff, report, dry_run)
    flows = dirs.calls / FLOWS_DIR
    if flows.is_dir():
        removed = {path for path, _ in report.removed}
        used = {_flow_in(p) for p in dirs.calls.glob(f"*{SUFFIX}") if p not in removed}
        for path in sorted(flows.glob("*.yaml")):
            if path.stem in used:
                report.kept += 1
            else:
                _consider(path, FLOWS_DIR, cutoff, report, dry_run)
    return report


def _consider(path: Path, kind: str, cutoff: float, report: PurgeReport,
              dry_run: bool) -> None:
    try:
        if path.stat().st_mtime >= cutoff:
            report.kept += 1
            return
        if not dry_run:
            path.unlink()
        report.removed.append((path, kind))
    except FileNotFoundError:
        return
    except OSError as exc:
        report.failed.append(f"{path}: {exc.strerror}")
