"""The table of environment variables exists once (engine/environment.py): no other file
spells a variable's name as a string, every variable the code reads is in the table, and
the README shows the table as the module renders it."""

from __future__ import annotations

import ast
import re

from engine.environment import NAMES, VARIABLES, markdown_table
from tests.architecture.import_graph import PACKAGES, ROOT

HOME = "engine/environment.py"
LOOKS_LIKE_A_VARIABLE = re.compile(r"[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+")
START, END = "<!-- environment table: start -->", "<!-- environment table: end -->"


def _sources() -> list[tuple[str, ast.AST]]:
    out = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            out.append((rel, ast.parse(path.read_text(encoding="utf-8"), filename=rel)))
    return out


def _is_environment(node: ast.AST) -> bool:
    """`os.environ`, `environ`, `env` or `self.env`: a mapping of the environment."""
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")
    return name in ("environ", "env")


def _read_names(tree: ast.AST) -> set[str]:
    """Names read from the environment with a literal: env.get("X"), os.getenv("X"), env["X"]."""
    found: set[str] = set()
    for node in ast.walk(tree):
        key = None
        if isinstance(node, ast.Call) and node.args:
            func = node.func
            if isinstance(func, ast.Attribute) and (
                    (func.attr in ("get", "setdefault", "pop") and _is_environment(func.value))
                    or func.attr == "getenv"):
                key = node.args[0]
        elif isinstance(node, ast.Subscript) and _is_environment(node.value):
            key = node.slice
        if isinstance(key, ast.Constant) and isinstance(key.value, str):
            found.add(key.value)
    return found


def test_no_file_but_the_table_spells_a_variable_name() -> None:
    spelled = [
        f"{path}:{node.lineno}: {node.value!r} (import it from {HOME})"
        for path, tree in _sources() if path != HOME
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and node.value in NAMES
    ]
    assert spelled == []


def test_every_variable_read_with_a_literal_name_is_in_the_table() -> None:
    unknown = sorted(
        f"{path}: {name}" for path, tree in _sources() for name in _read_names(tree)
        if LOOKS_LIKE_A_VARIABLE.fullmatch(name) and name not in NAMES)
    assert unknown == [], f"declare these in {HOME}"


def test_the_checks_above_see_a_literal_read() -> None:
    tree = ast.parse('import os\nos.environ.get("DEEPGRAM_API_KEY")\nenv["NEW_THING_URL"]\n'
                     'os.getenv("X_Y")\n')
    assert _read_names(tree) == {"DEEPGRAM_API_KEY", "NEW_THING_URL", "X_Y"}


def test_each_variable_is_declared_once_with_what_it_does() -> None:
    names = [v.name for v in VARIABLES]
    assert len(names) == len(set(names))
    assert all(LOOKS_LIKE_A_VARIABLE.fullmatch(v.name) and v.purpose for v in VARIABLES)


def test_readme_shows_the_table_as_the_module_renders_it() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert START in readme and END in readme, f"README.md lacks the {START} ... {END} block"
    shown = readme.split(START, 1)[1].split(END, 1)[0].strip() + "\n"
    assert shown == markdown_table(), (
        "README's environment table is out of date; paste in "
        "`python -c 'from engine.environment import markdown_table; print(markdown_table())'`")

