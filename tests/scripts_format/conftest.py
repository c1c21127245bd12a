"""Fixtures for the event-script format tests: write a script next to a frozen flow, run it."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from engine.scripts import Script, load_script

FLOW = Path(__file__).with_name("flows.yaml")


@pytest.fixture
def write_script(tmp_path: Path) -> Callable[[str], Path]:
    """Write `body` (YAML with `steps:`) as a script whose `flow:` is the frozen flow."""
    def write(body: str, name: str = "case.yaml", flow: bool = True) -> Path:
        path = tmp_path / name
        head = f"flow: {FLOW}\n" if flow else ""
        path.write_text(head + body.lstrip("\n"), encoding="utf-8")
        return path
    return write


@pytest.fixture
def script_of(write_script: Callable[[str], Path]) -> Callable[[str], Script]:
    return lambda body: load_script(write_script(body))
