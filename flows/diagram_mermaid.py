"""Render a `Diagram` as Mermaid `stateDiagram-v2` text (pure string building, no I/O).

Syntax rules this module follows (from Mermaid's state-diagram grammar):
- State ids are word characters only (`\\w+`, no dots or dashes, which `class` statements
  also require) and never start with a keyword (`state`, `note`, `class`, `default`, …);
  other names get an `s_` id. Every state is declared as `state "name" as id` so its box
  keeps the name as its title, then `id : line` adds description lines under it.
- A transition label runs from ` : ` to the end of the line and may not contain `:` or `;`,
  so those (and `#`, `%`, quotes, angle brackets, braces) are written as Mermaid entity codes
  (`#58;`); alternatives on one arrow are separated by `<br>`.
- Mermaid state diagrams cannot style transitions (there is no `linkStyle` and no edge
  classes), so `--trace` highlights the visited states only, with `classDef`/`class`; the
  state the run ended in gets a second, stronger class. Internal transitions and
  re-entries are told apart by their label tag, `(stays)` or `(re-enters)`.
The output of the default flow was checked by parsing it with Mermaid 10.9 (the jison
grammar, which rejects a raw `:` in a label) and 11.17.
"""

from __future__ import annotations

import re

from flows.diagram import ANY, Diagram, Edge, Highlight

_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_KEYWORDS = ("acc", "class", "click", "default", "direction", "hide", "href", "note", "scale",
             "state", "style")
_ENTITIES = {"#": "#35;", ":": "#58;", ";": "#59;", "%": "#37;", '"': "#quot;", "<": "#lt;",
             ">": "#gt;", "{": "#123;", "}": "#125;"}
_DIRECTION = re.compile(r"(directio)n(?=\s+(?:tb|bt|rl|lr))", re.IGNORECASE)  # a layout line
_STYLES = {
    "anyState": "fill:#f1f3f5,stroke:#868e96,stroke-dasharray:5 5",
    "visited": "fill:#fff3bf,stroke:#e67700,stroke-width:2px",
    "lastState": "fill:#ffd8a8,stroke:#d9480f,stroke-width:4px",
}


def render_mermaid(diagram: Diagram, highlight: Highlight | None = None) -> str:
    """The whole `stateDiagram-v2` text, ending with a newline; same input, same text."""
    ids = state_ids([n.name for n in diagram.nodes])
    any_id = _fresh("any_state", set(ids.values()))
    out = ["stateDiagram-v2", f"    %% {_comment(diagram.name)} (drawn by `dialflow diagram`)"]
    if highlight is not None:
        out.append("    %% trace: " + _comment(" -> ".join(highlight.states)))
    for node in diagram.nodes:
        out.append(f'    state "{text(node.name)}" as {ids[node.name]}')
        out += [f"    {ids[node.name]} : {text(line)}" for line in node.lines]
    if diagram.has_any:
        out.append(f'    state "any state" as {any_id}')
        out += [f"    {any_id} : {text(line)}" for line in diagram.any_lines]
    out.append("")
    out.append(f"    [*] --> {ids[diagram.initial]}")
    for edge in diagram.edges:
        source = any_id if edge.source == ANY else ids[edge.source]
        out.append(f"    {source} --> {ids[edge.dest]} : {_label(edge)}")
    out += [f"    {ids[n.name]} --> [*]" for n in diagram.nodes if n.final]
    classes = _classes(diagram, highlight, ids, any_id)
    if classes:
        out.append("")
    out += [f"    classDef {name} {_STYLES[name]}" for name in dict.fromkeys(c for _, c in classes)]
    out += [f"    class {','.join(members)} {name}" for members, name in classes]
    return "\n".join(out) + "\n"


def _classes(diagram: Diagram, highlight: Highlight | None, ids: dict[str, str],
             any_id: str) -> list[tuple[list[str], str]]:
    """(state ids, class name) pairs: the pseudo-state, then what a trace visited."""
    out = [([any_id], "anyState")] if diagram.has_any else []
    if highlight is not None and highlight.states:
        out.append(([ids[n.name] for n in diagram.nodes if n.name in highlight.states],
                    "visited"))
        if highlight.last is not None:
            out.append(([ids[highlight.last]], "lastState"))
    return out


def state_ids(names: list[str]) -> dict[str, str]:
    """A Mermaid-safe, unique id per state name: the name itself when it is safe."""
    ids: dict[str, str] = {}
    taken: set[str] = set()
    for name in names:
        if _WORD.fullmatch(name) and not name.lower().startswith(_KEYWORDS):
            ids[name] = name
            taken.add(name)
    for name in names:
        if name not in ids:
            ids[name] = _fresh("s_" + re.sub(r"\W", "_", name, flags=re.ASCII), taken)
            taken.add(ids[name])
    return ids


def text(value: str) -> str:
    """`value` made safe for a label, a description line or a quoted state name."""
    flat = " ".join(value.split())
    escaped = "".join(_ENTITIES.get(ch, ch) for ch in flat)
    return _DIRECTION.sub(r"\1#110;", escaped)


def _label(edge: Edge) -> str:
    lines = (edge.tag, *edge.lines) if edge.tag else edge.lines
    return "<br>".join(text(line) for line in lines)


def _fresh(base: str, taken: set[str]) -> str:
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}_{n}"
    return candidate


def _comment(value: str) -> str:
    """One comment line: `{` would open a directive, `direction LR` would be obeyed."""
    return _DIRECTION.sub(r"\1#110;", " ".join(value.split()).lstrip("{"))
