"""Readable YAML of the wrong shape anywhere in a flow: every value and every key of the
default flow replaced in turn by a value of another type. Checking must report errors
(never raise, never fall back to 'dialflow could not check this file')."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flows import load_flow_text

FLOW = (Path(__file__).resolve().parents[2] / "tests" / "scripts_format" / "flows.yaml")
LINES = FLOW.read_text(encoding="utf-8").splitlines()
ODD_VALUES = ("[]", "{a: {b: c}}", "~", ".inf", "-1", "[~, [1]]")
ODD_KEYS = ("1", "true", "~", ".inf", "'a b'")
VALUE_LINE = re.compile(r"^(\s*(?:- )?[\w.]+:)\s*(\S.*?)\s*(#.*)?$")
KEY_LINE = re.compile(r"^(\s*(?:- )?)([\w.]+)(:.*)$")


def variants() -> list[tuple[int, str]]:
    out = []
    for index, line in enumerate(LINES):
        if match := VALUE_LINE.match(line):
            out += [(index, f"{match.group(1)} {odd}") for odd in ODD_VALUES]
        if match := KEY_LINE.match(line):
            out += [(index, f"{match.group(1)}{odd}{match.group(3)}") for odd in ODD_KEYS]
    return out


VARIANTS = variants()


@pytest.mark.parametrize("chunk", range(4))
def test_no_shape_crashes_the_checker(chunk: int) -> None:
    assert len(VARIANTS) > 500
    crashed = []
    for index, line in VARIANTS[chunk::4]:
        text = "\n".join([*LINES[:index], line, *LINES[index + 1:]])
        flow, problems = load_flow_text(text, "flows.yaml")
        crashed += [f"line {index + 1} as {line.strip()!r}: {p.message}" for p in problems
                    if "could not check" in p.message]
        assert flow is not None or problems, line
    assert crashed == []
