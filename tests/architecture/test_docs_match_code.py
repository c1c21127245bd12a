"""Docs that promise only what is there: every third-party module our packages import comes
from a dependency pyproject.toml declares (an undeclared `httpx2` import slipped in once),
and the package docstrings that list modules or commands name real ones, all of them."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions

from tests.architecture.import_graph import ROOT, build_graph

#: Imported only when installed, with a fallback (`engine/app/commands/serve.py`: uvloop).
OPTIONAL = {"uvloop"}
#: Modules that only run inside pytest may use the dev extras.
PYTEST_ONLY = ("engine/scripts/pytest_plugin.py",)


def _names(requirements: list[str]) -> set[str]:
    return {re.split(r"[<>=!~\[ ;]", r, maxsplit=1)[0].lower().replace("_", "-")
            for r in requirements}


def test_every_imported_package_is_declared() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = _names(project["dependencies"])
    dev = _names(project["optional-dependencies"]["dev"])
    owners = packages_distributions()
    undeclared = []
    for path, modules in sorted(build_graph().external.items()):
        allowed = declared | dev if path in PYTEST_ONLY else declared
        for module in sorted(modules):
            if module in sys.stdlib_module_names or module == "__future__" or module in OPTIONAL:
                continue
            dists = {d.lower().replace("_", "-") for d in owners.get(module, [])}
            if not dists & allowed:
                undeclared.append(f"{path}: {module} (from {sorted(dists) or 'nothing'})")
    assert undeclared == [], "declare these in pyproject.toml [project] dependencies"


def _docstring(rel: str) -> str:
    return ast.get_docstring(ast.parse((ROOT / rel).read_text())) or ""


def test_the_commands_docstring_names_every_command_module() -> None:
    from engine.app.cli import COMMAND_MODULES

    doc = _docstring("engine/app/commands/__init__.py")
    missing = [m for m in COMMAND_MODULES if m.rsplit(".", 1)[1] not in doc]
    assert missing == []


def test_the_tools_docstring_lists_only_modules_that_exist_and_all_of_them() -> None:
    doc = _docstring("tools/__init__.py")
    named = set(re.findall(r"`([a-z_]+)`", doc))
    modules = {p.stem for p in (ROOT / "tools").glob("*.py")} - {"__init__"}
    modules |= {p.name for p in (ROOT / "tools").iterdir() if (p / "__init__.py").is_file()}
    assert modules - named == set(), "modules the docstring does not list"
    source = "\n".join(p.read_text() for p in (ROOT / "tools").glob("*.py"))
    invented = {n for n in named - modules
                if not re.search(rf"^(async def|def|class) {n}\b|^{n} = ", source, re.M)}
    assert invented == set(), "named in the docstring but neither a module nor defined"


def test_the_engine_docstring_names_types_where_they_are() -> None:
    doc = _docstring("engine/__init__.py")
    for dotted in re.findall(r"`(engine\.[a-z_.]+\.[A-Z]\w+)", doc):
        module, _, name = dotted.rpartition(".")
        assert hasattr(__import__(module, fromlist=[name]), name), dotted
    assert re.findall(r"`(engine\.[a-z_.]+\.[A-Z]\w+)", doc)
