"""Shared pytest fixtures: paths to the default flow and the event scripts."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def default_flow_text() -> str:
    return (ROOT / "flows.yaml").read_text(encoding="utf-8")


@pytest.fixture
def scripts_dir() -> Path:
    return ROOT / "tests" / "scripts"
