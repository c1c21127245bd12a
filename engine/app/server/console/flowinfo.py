"""What the console's flow page and call pages say about flows: the flow serving new calls
(under `serve`: its version, when it was loaded, the last reload and its result), its
diagram, and `dialflow check` findings of the file on disk; a recorded call's diagram is
drawn from the flow version it ran on (the archive beside the event logs) by the reader
process, and here only when that version is not archived yet.

Without a server (`dialflow console DIR`) the flow is `--flow FILE`, or else the newest
version in the archive. Runs in a thread (the routes await `asyncio.to_thread`): drawing
runs `dot`, checking explores the flow. Touches: reads flow files and the archive.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any, Protocol

from flows import Flow, FlowInvalid, load_flow

from .diagrams import Drawing, archived_flow, draw


class Console(Protocol):
    """What this module reads of the console (routes.Console satisfies it)."""

    calls_dir: Path | None
    flows: Any  # the server's FlowSource, or None (`dialflow console DIR`)
    flow_path: str | None

_findings: dict[tuple[str, float, int], list[dict[str, Any]]] = {}


def _when(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def drawing_for(console: Console, version: str) -> Drawing:
    """The diagram of flow `version` (a recorded call's), else of the serving flow."""
    flow = archived_flow(console.calls_dir, version)
    if flow is None:
        flow, path = _serving(console)
        if flow is None:
            return Drawing("", f"flow version {version} is not in the archive ({path})")
        version = _serving_key(console, path)
    return draw(flow, version)


def _serving_key(console: Console, path: str) -> str:
    """The drawing cache's name for the serving (or offline) flow as loaded now."""
    if console.flows is not None:
        return f"serving:{console.flows.version}:{console.flows.sha256}"
    try:
        return f"file:{path}:{Path(path).stat().st_mtime_ns}"
    except OSError:
        return f"file:{path}"


def _serving(console: Console) -> tuple[Flow | None, str]:
    if console.flows is not None:
        return console.flows.current().flow, str(console.flows.path)
    path = _offline_path(console)
    if path is None:
        return None, "no flow: pass --flow FILE"
    try:
        return load_flow(path), str(path)
    except FlowInvalid as exc:
        return None, str(exc).splitlines()[0]


def _offline_path(console: Console) -> Path | None:
    if console.flow_path:
        return Path(console.flow_path)
    if console.calls_dir is None:
        return None
    archived = sorted((console.calls_dir / "flows").glob("*.yaml"),
                      key=lambda p: p.stat().st_mtime)
    return archived[-1] if archived else None


def findings(path: Path) -> list[dict[str, Any]]:
    """`dialflow check` on the file as it is on disk (cached while it is unchanged)."""
    from engine.app.commands.check import examine

    try:
        stat = path.stat()
    except OSError as exc:
        return [{"severity": "error", "kind": "invalid", "file": str(path), "line": 0,
                 "message": f"cannot read: {exc.strerror}", "fix": ""}]
    key = (str(path), stat.st_mtime, stat.st_size)
    if key not in _findings:
        _, found, _ = examine(str(path))
        if len(_findings) > 16:
            _findings.clear()
        _findings[key] = [f.as_json() for f in found]
    return _findings[key]


def describe(console: Console) -> tuple[dict[str, Any], Drawing, list[dict[str, Any]]]:
    """(facts about the flow, its drawing, the check findings) for the flow page."""
    flow, where = _serving(console)
    if flow is None:
        return {"flow": where}, Drawing("", where), []
    facts: dict[str, Any] = {"name": flow.name, "file": where}
    source = console.flows
    if source is not None:
        facts["version serving new calls"] = f"{source.version} (sha256 {source.sha256})"
        facts["loaded"] = _when(source.loaded_at)
        facts["last reload"] = ("none since the server started" if source.version == 1
                                else f"version {source.version} took over at "
                                f"{_when(source.loaded_at)}")
        refusal = source.last_refusal
        if refusal:
            facts["last refused edit"] = (f"{_when(refusal['at'])}: {refusal['error']} "
                                          f"(version {refusal['serving_version']} kept "
                                          "serving)")
        facts["result"] = "refused" if source.last_error else "ok"
    else:
        facts["reloads"] = "not known without a server (dialflow console reads files only)"
    drawing = draw(flow, _serving_key(console, where))
    return facts, drawing, findings(Path(where))
