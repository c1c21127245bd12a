"""The shape of dialflow, kept by a test: the import graph of the six packages (read from
the source, nothing imported) has no file-level cycle and no arrow that points the wrong way.

Wrong ways (DESIGN.md "Layers"): `flows/` importing anything else of ours; the runtime core
(`engine/` outside the composition root `engine/app/`) importing an adapter; a provider SDK
imported outside its adapter (`import_graph.SDK_HOMES`; chromadb's adapter is knowledge's
vector store, knowledge/store.py and knowledge/chroma_ef.py).

`KNOWN_VIOLATIONS` lists what the issue-12 refactor still had to move when this test was
written (each owned by the helper that moves it). The list can only shrink: the test fails on
a violation not listed AND on a listed one that no longer exists, so whoever fixes one
deletes its line. The integrator empties it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.architecture.import_graph import Graph, build_graph, cycles, violations

KNOWN_VIOLATIONS: frozenset[str] = frozenset()


def _problems(graph: Graph) -> set[str]:
    return violations(graph) | {"cycle: " + " <-> ".join(c) for c in cycles(graph)}


@pytest.fixture(scope="module")
def problems() -> set[str]:
    return _problems(build_graph())


def test_no_new_cycle_or_wrong_way_arrow(problems: set[str]) -> None:
    new = sorted(problems - KNOWN_VIOLATIONS)
    assert new == [], "the import graph got a cycle or a wrong-way arrow:\n" + "\n".join(new)


def test_known_violations_only_shrink(problems: set[str]) -> None:
    gone = sorted(KNOWN_VIOLATIONS - problems)
    assert gone == [], ("fixed, so delete these lines from KNOWN_VIOLATIONS:\n"
                        + "\n".join(gone))


def _graph_of(root: Path, files: dict[str, str]) -> Graph:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    for package in ("engine", "states", "flows", "adapters", "knowledge", "tools"):
        (root / package).mkdir(exist_ok=True)
        (root / package / "__init__.py").touch()
    return build_graph(root)


def test_the_walker_sees_each_kind_of_problem(tmp_path: Path) -> None:
    graph = _graph_of(tmp_path, {
        "engine/a.py": "def f():\n    from engine import b\n",  # a lazy import counts
        "engine/b.py": "from . import a\nfrom adapters.x import thing\n",
        "engine/app/wiring.py": "import adapters.x\n",  # the composition root may
        "adapters/x.py": "thing = 1\n",
        "flows/lang.py": "from engine.a import f\n",
        "knowledge/q.py": "import openai\n",
        "adapters/openai/ok.py": "import openai.types\n",
    })
    assert _problems(graph) == {
        "cycle: engine/a.py <-> engine/b.py",
        "core imports adapter: engine/b.py -> adapters/x.py",
        "flows imports ours: flows/lang.py -> engine/a.py",
        "sdk outside its adapter: knowledge/q.py -> openai",
    }


def test_the_walker_reads_source_without_importing_it(tmp_path: Path) -> None:
    graph = _graph_of(tmp_path, {"tools/boom.py": "raise SystemExit('imported!')\n"
                                                  "import states.x\n",
                                 "states/x.py": ""})
    assert graph.edges["tools/boom.py"] == {"states/x.py"}
