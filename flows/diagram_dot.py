"""Render a `Diagram` as Graphviz DOT text, and turn DOT into SVG or PNG with `dot`.

`render_dot` is pure string building. `render_image` is the only code here that touches the
system: it looks up the `dot` executable on PATH and runs it in a subprocess, writing the
output file. A missing `dot` raises `DiagramError` naming the package to install; there is
no fallback to another format.

Drawing: states are rounded boxes (name in bold, description lines under it), a black dot
points at the initial state, final states have a double border and an arrow to a bullseye,
internal transitions ("stays") are dashed grey self-loops, re-entries solid self-loops,
and `any:` transitions leave one dashed "any state" box. With a trace, visited states are
filled, the state the run ended in gets a thick border, and the edges taken are coloured
while the others are dimmed.
"""

from __future__ import annotations

import html
import shutil
import subprocess
from pathlib import Path

from flows.diagram import ANY, STAY, Diagram, Edge, Highlight, Node

IMAGE_FORMATS = ("svg", "png")
INSTALL_HINT = "install Graphviz: `apt-get install graphviz` (Debian/Ubuntu)"
FONT = "Helvetica,Arial,sans-serif"
TAKEN = "#d9480f"
VISITED_FILL, VISITED_LINE, LAST_FILL = "#fff3bf", "#e67700", "#ffd8a8"
DIM, DIM_TEXT = "#ced4da", "#adb5bd"  # edges a trace did not take
QUIET, QUIET_TEXT = "#868e96", "#495057"  # internal and `any:` edges


class DiagramError(Exception):
    """The image could not be drawn: no `dot` on PATH, or `dot` failed."""


def render_dot(diagram: Diagram, highlight: Highlight | None = None, ids: bool = False) -> str:
    """The whole DOT text, ending with a newline; same input, same text. `ids=True` gives
    the SVG elements stable ids a page can highlight: `state-<name>` for each state,
    `edge-<n>` for `diagram.edges[n]`, `edge-start` for the arrow into the initial state."""
    names = {n.name for n in diagram.nodes}
    start, end, any_id = (_fresh(base, names) for base in ("__start", "__end", "__any"))
    out = [
        "digraph flow {",
        f"  graph [label={_quote(diagram.name)}, labelloc=t, fontname={_quote(FONT)}, "
        "fontsize=16, nodesep=0.5, ranksep=0.6];",
        f"  node [shape=box, style=rounded, fontname={_quote(FONT)}, fontsize=11];",
        f"  edge [fontname={_quote(FONT)}, fontsize=9];",
        f"  {_quote(start)} [shape=circle, style=filled, fillcolor=black, width=0.18, "
        'label=""];',
    ]
    out += [f"  {_quote(n.name)} [{_node_attrs(n, highlight)}{_id('state-' + n.name, ids)}];"
            for n in diagram.nodes]
    finals = [n.name for n in diagram.nodes if n.final]
    if finals:
        out.append(f"  {_quote(end)} [shape=doublecircle, style=filled, fillcolor=black, "
                   'width=0.12, label=""];')
    if diagram.has_any:
        label = _html_label("any state", diagram.any_lines)
        out.append(f"  {_quote(any_id)} [label={label}, style=\"rounded,dashed\", "
                   f'color="{QUIET}", fontcolor="{QUIET_TEXT}"];')
    start_taken = None if highlight is None else highlight.started
    start_id = f" [id={_quote('edge-start')}]" if ids else ""
    out.append(f"  {_quote(start)} -> {_quote(diagram.initial)}{_edge_style(start_taken)}"
               f"{start_id};")
    for n, edge in enumerate(diagram.edges):
        source = any_id if edge.source == ANY else edge.source
        out.append(f"  {_quote(source)} -> {_quote(edge.dest)} "
                   f"[{_edge_attrs(edge, highlight)}{_id(f'edge-{n}', ids)}];")
    for name in finals:
        taken = None if highlight is None else name == highlight.last
        out.append(f"  {_quote(name)} -> {_quote(end)}{_edge_style(taken)};")
    out.append("}")
    return "\n".join(out) + "\n"


def render_image(dot_text: str, fmt: str, out: str | Path) -> None:
    """Run Graphviz `dot` to write `out` as `fmt` (svg or png); raise `DiagramError`."""
    if fmt not in IMAGE_FORMATS:
        raise DiagramError(f"unknown image format {fmt!r}; use one of {', '.join(IMAGE_FORMATS)}")
    dot = shutil.which("dot")
    if dot is None:
        raise DiagramError(f"Graphviz `dot` is not on PATH, so {fmt} cannot be drawn; "
                           f"{INSTALL_HINT}, or use --format mermaid")
    try:
        done = subprocess.run([dot, f"-T{fmt}", "-o", str(out)], input=dot_text.encode(),
                              capture_output=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise DiagramError(f"running {dot} failed: {exc}") from exc
    if done.returncode != 0:
        detail = done.stderr.decode(errors="replace").strip()
        raise DiagramError(f"{dot} exited with {done.returncode}: {detail}")


def _node_attrs(node: Node, highlight: Highlight | None) -> str:
    attrs = [f"label={_html_label(node.name, node.lines)}"]
    styles = ["rounded"]
    if node.final:
        attrs.append("peripheries=2")
    if highlight is not None and node.name in highlight.states:
        last = node.name == highlight.last
        styles.append("filled")
        attrs += [f'fillcolor="{LAST_FILL if last else VISITED_FILL}"',
                  f'color="{TAKEN if last else VISITED_LINE}"', f"penwidth={4 if last else 2}"]
        if last:
            attrs.append('tooltip="the trace ended here"')
    attrs.append(f'style="{",".join(styles)}"')
    return ", ".join(attrs)


def _edge_attrs(edge: Edge, highlight: Highlight | None) -> str:
    taken = None if highlight is None else highlight.took(edge)
    attrs = ["label=" + _edge_label(edge, highlight)]
    if edge.kind == STAY:
        attrs.append("style=dashed")
    if taken:
        attrs += [f'color="{TAKEN}"', "penwidth=2.5"]
    elif taken is False:
        attrs.append(f'color="{DIM}"')
    elif edge.kind == STAY or edge.source == ANY:
        attrs.append(f'color="{QUIET}"')
    return ", ".join(attrs)


def _edge_label(edge: Edge, highlight: Highlight | None) -> str:
    """One left-aligned row per alternative; with a trace, the rows taken are bold and
    coloured and the others dimmed, so a merged arrow shows which alternative ran."""
    quiet = edge.kind == STAY or edge.source == ANY
    tag_color = (QUIET_TEXT if quiet else "black") if highlight is None else \
        TAKEN if highlight.took(edge) else DIM_TEXT
    rows = [f'<font color="{tag_color}">{html.escape(edge.tag)}</font>'] if edge.tag else []
    for index, line in enumerate(edge.lines):
        text = html.escape(line)
        if highlight is not None and highlight.took(edge, index):
            rows.append(f'<font color="{TAKEN}"><b>{text}</b></font>')
        elif highlight is not None:
            rows.append(f'<font color="{DIM_TEXT}">{text}</font>')
        else:
            rows.append(f'<font color="{QUIET_TEXT}">{text}</font>' if quiet else text)
    return "<" + "".join(row + '<br align="left"/>' for row in rows) + ">"


def _edge_style(taken: bool | None) -> str:
    if taken:
        return f' [color="{TAKEN}", penwidth=2.5]'
    return f' [color="{DIM}"]' if taken is False else ""


def _html_label(title: str, lines: tuple[str, ...]) -> str:
    rows = "".join(f'<br/><font point-size="9">{html.escape(line)}</font>' for line in lines)
    return f"<<b>{html.escape(title)}</b>{rows}>"


def _id(value: str, wanted: bool) -> str:
    return f", id={_quote(value)}" if wanted else ""


def _quote(value: str) -> str:
    """A DOT double-quoted string on one line (`\\` and `"` escaped, so `\\N` stays text)."""
    escaped = " ".join(value.split()).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _fresh(base: str, taken: set[str]) -> str:
    candidate = base
    while candidate in taken:
        candidate += "_"
    return candidate
