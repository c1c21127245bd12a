"""pytest plugin: collect event scripts (`*.yaml` with `steps:` under a `scripts/` folder)
so plain `pytest` runs them next to the Python tests. Registered through the `pytest11`
entry point in pyproject.toml.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from engine.scripts.format import ScriptInvalid, load_script
from engine.scripts.report import format_result
from engine.scripts.runner import run_script
from flows import FlowInvalid


def pytest_collect_file(parent: pytest.Collector, file_path: Path) -> pytest.File | None:
    if file_path.suffix in (".yaml", ".yml") and file_path.parent.name == "scripts":
        return ScriptFile.from_parent(parent, path=file_path)
    return None


class ScriptFile(pytest.File):
    def collect(self) -> Any:
        yield ScriptItem.from_parent(self, name=self.path.stem)


class ScriptFailed(Exception):
    pass


class ScriptItem(pytest.Item):
    def runtest(self) -> None:
        try:
            result = run_script(load_script(self.path))
        except (ScriptInvalid, FlowInvalid) as exc:
            raise ScriptFailed(str(exc)) from None
        if not result.passed:
            raise ScriptFailed(format_result(result))

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException],
                     style: Any = None) -> str:
        if isinstance(excinfo.value, ScriptFailed):
            return str(excinfo.value)
        return str(super().repr_failure(excinfo))

    def reportinfo(self) -> tuple[Path, int, str]:
        return self.path, 0, f"event script {self.name}"
