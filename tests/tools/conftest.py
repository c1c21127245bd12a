"""Fixtures for the tools tests: a fresh SQLite database per test and a call context.

Puts the repository root first on sys.path: with `tests/` on sys.path (pytest's rootdir
conftest), the folder `tests/tools/` would otherwise be found as a namespace package named
`tools` before the real one.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for path in (str(ROOT), str(Path(__file__).parent)):
    if path not in sys.path:
        sys.path.insert(0, path)

from tools_testkit import make_context  # noqa: E402

from tools.builtin import build_registry  # noqa: E402
from tools.context import ToolContext  # noqa: E402
from tools.registry import ToolRegistry  # noqa: E402
from tools.storage import Storage  # noqa: E402


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'dialflow.db'}"


@pytest.fixture
def storage(db_url: str) -> Iterator[Storage]:
    store = Storage(db_url)
    yield store
    store.close()


@pytest.fixture
def ctx(storage: Storage) -> ToolContext:
    return make_context(storage)


@pytest.fixture
def registry() -> ToolRegistry:
    return build_registry()
