"""The flow diagram a console page shows: the SVG `dialflow diagram` draws (Graphviz), with
stable ids (`state-<name>`, `edge-<n>`) the page's script highlights, and the map from each
(state, event, next state) a call can record to the ids of the arrows it took.

Drawn once per flow version and cached: a recorded call's, in the console's reader process
(from the flow archive next to the event logs: its YAML parsed and laid out there, not in
the server's); the serving flow's, for the flow page, in a thread (`dot` runs as a
subprocess). Without Graphviz the page
says what to install instead of a drawing. Touches: runs `dot`, reads the flow archive.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from flows import Flow, FlowInvalid, load_flow
from flows.diagram import build_diagram
from flows.diagram_dot import DiagramError, render_dot, render_image

MAX_CACHED = 32
SEP = "\u0001"  # joins state, event and next state in the edge map's keys


@dataclass(frozen=True)
class Drawing:
    svg: str  # "" when it could not be drawn
    error: str
    edges: dict[str, list[str]] = field(default_factory=dict)  # "b\1e\1a" -> arrow ids
    states: tuple[str, ...] = ()


_cache: dict[str, Drawing] = {}


def draw(flow: Flow, version: str) -> Drawing:
    """The drawing of `flow` (cached under `version`, its content hash)."""
    cached = _cache.get(version)
    if cached is not None:
        return cached
    diagram = build_diagram(flow, actions=False)
    edges: dict[str, list[str]] = {}
    index_of = {spec: n for n, edge in enumerate(diagram.edges) for spec in edge.specs}
    for i, spec in enumerate(flow.transitions):
        if i in index_of:  # (`any:` transitions are expanded: one spec per source state)
            ids = edges.setdefault(SEP.join((spec.source, spec.event, spec.target)), [])
            if f"edge-{index_of[i]}" not in ids:
                ids.append(f"edge-{index_of[i]}")
    svg, error = "", ""
    try:
        with tempfile.TemporaryDirectory(prefix="dialflow-console-") as tmp:
            out = Path(tmp) / "flow.svg"
            render_image(render_dot(diagram, ids=True), "svg", out)
            svg = inline_svg(out.read_text(encoding="utf-8"))
    except (DiagramError, OSError) as exc:
        error = str(exc)
    drawing = Drawing(svg, error, edges, tuple(flow.states))
    if len(_cache) >= MAX_CACHED:
        _cache.pop(next(iter(_cache)))
    _cache[version] = drawing
    return drawing


def inline_svg(text: str) -> str:
    """Graphviz's SVG ready to sit inside a page: no XML prolog or doctype, scaled by CSS
    (its fixed width and height removed, the viewBox kept), no scripts or event handlers."""
    start = text.find("<svg")
    svg = text[start:] if start >= 0 else ""
    svg = re.sub(r'<svg width="[^"]*" height="[^"]*"', '<svg class="flow"', svg, count=1)
    svg = re.sub(r"<script\b.*?</script\s*>", "", svg, flags=re.S | re.I)
    return re.sub(r'\son[a-z]+\s*=\s*"[^"]*"', "", svg, flags=re.I)


_flows: dict[tuple[Path, str], Flow | None] = {}


def archived_flow(calls_dir: Path | None, version: str) -> Flow | None:
    """The flow a recorded call ran on, from the archive (loaded once per version: its
    file never changes); None when it is not there."""
    if calls_dir is None or not re.fullmatch(r"[0-9a-f]{16}", version):
        return None
    if (calls_dir, version) in _flows:
        return _flows[calls_dir, version]
    path = calls_dir / "flows" / f"{version}.yaml"
    try:
        flow = load_flow(path) if path.is_file() else None
    except FlowInvalid:
        flow = None
    if flow is not None:
        if len(_flows) >= MAX_CACHED:
            _flows.pop(next(iter(_flows)))
        _flows[calls_dir, version] = flow
    return flow
