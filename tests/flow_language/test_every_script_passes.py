"""Every event script of the flow language (tests/flow_language/scripts, on the default flow
and examples/patient_line.yaml) passes in CI, not only the few other tests read back: each
one is the witness that an item of the vocabulary works (hours, variables, templates, the
keypad, flow tools, filler and hold music, tickets)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.scripts.format import load_script
from engine.scripts.report import format_result
from engine.scripts.runner import run_script

SCRIPTS = sorted((Path(__file__).parent / "scripts").glob("*.yaml"))


def test_there_are_scripts() -> None:
    assert len(SCRIPTS) >= 16


@pytest.mark.parametrize("script", SCRIPTS, ids=[s.stem for s in SCRIPTS])
def test_the_script_passes(script: Path) -> None:
    result = run_script(load_script(script))
    assert result.passed, format_result(result)
