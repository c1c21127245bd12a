"""Shared pytest fixtures: paths to the default flow and the event scripts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # so suites can import the shared fakes as `tests.fakes`
    sys.path.insert(0, str(ROOT))
# Calls in tests start on a Tuesday morning, whatever the real time: the default flow greets
# differently after hours (tests of that set their own clock).
os.environ.setdefault("DIALFLOW_CLOCK", "2026-12-01T10:00")


@pytest.fixture
def default_flow_text() -> str:
    return (ROOT / "flows.yaml").read_text(encoding="utf-8")


@pytest.fixture
def scripts_dir() -> Path:
    return ROOT / "tests" / "scripts"
