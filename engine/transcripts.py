"""`TranscriptStore`: each call's transcript as an append-only JSON-lines file, written as
the call goes, so what was said survives a crash of the process.

One line per caller utterance, per agent sentence the caller actually heard (its mark came
back), and for the call's start and end. Each line is flushed and fsynced: utterances are
seconds apart, so the cost is negligible. Phone numbers are stored as the telephony sent
them (this is the business's own record); they never go to the log.
"""

from __future__ import annotations

import json
import os
import re
import time
from pathlib import Path
from typing import Any

_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


class CallTranscript:
    def __init__(self, path: Path):
        self.path = path
        self._file = path.open("a", encoding="utf-8")

    def write(self, kind: str, **fields: Any) -> None:
        if self._file.closed:
            return
        line = json.dumps({"at": round(time.time(), 3), "kind": kind, **fields},
                          ensure_ascii=False)
        self._file.write(line + "\n")
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        self._file.close()


class TranscriptStore:
    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def open(self, call_id: str) -> CallTranscript:
        self.directory.mkdir(parents=True, exist_ok=True)
        return CallTranscript(self.directory / f"{_SAFE.sub('_', call_id)}.jsonl")

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
