"""The archive of the flow versions calls ran on, and content hashes.

A call's files are named by `engine.transcripts.file_stem` (never the id as given: a
sanitised, bounded prefix plus a hash, so two ids never share a file). Each flow version is
stored once, content-addressed by the hash of its text, so a replay can load exactly the
flow a call ran on even after flows.yaml has been edited.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import threading
from pathlib import Path

from flows import Flow
from flows.loader import load_flow_text

log = logging.getLogger("dialflow.records")
FLOWS_DIR = "flows"


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


class FlowArchive:
    """`data/calls/flows/<hash>.yaml`: every flow version a recorded call ran on."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory) / FLOWS_DIR
        self._known: dict[int, tuple[Flow, str]] = {}  # id(flow) -> (flow, hash)

    def knows(self, flow: Flow) -> bool:
        known = self._known.get(id(flow))
        return known is not None and known[0] is flow

    def version_of(self, flow: Flow) -> str:
        """The content hash of `flow`, archiving its text the first time it is seen. The
        file is re-read and checked against the loaded flow; if it was edited meanwhile (a
        reload is pending) the version is "unknown" and replay needs `--flow`."""
        known = self._known.get(id(flow))
        if known is not None and known[0] is flow:
            return known[1]
        version = "unknown"
        try:
            text = Path(flow.path).read_text(encoding="utf-8")
            loaded, _ = load_flow_text(text, flow.path)
            if loaded == flow:
                version = text_hash(text)
                self._store(version, text)
            else:
                log.warning("flow %s changed on disk since it was loaded: calls on it are "
                            "recorded with flow version unknown", flow.path)
        except OSError as exc:
            log.warning("flow %s cannot be archived: %s", flow.path, exc)
        self._known[id(flow)] = (flow, version)
        return version

    def _store(self, version: str, text: str) -> None:
        path = self.path(version)
        if path.exists():
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        part = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        part.write_text(text, encoding="utf-8")
        os.replace(part, path)

    def path(self, version: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{16}", version):
            raise ValueError(f"not a flow version: {version!r}")
        return self.directory / f"{version}.yaml"
