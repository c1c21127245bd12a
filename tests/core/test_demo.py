"""`dialflow demo` places a scripted call and prints a timestamped transcript."""

from __future__ import annotations

import re

import pytest

from engine.app.cli import main


def test_demo_prints_a_whole_call(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo"]) == 0
    lines = capsys.readouterr().out.splitlines()
    body = [line for line in lines if re.match(r"^\d\d:\d\d\.\d{3}  ", line)]
    assert body, lines
    times = [line[:9] for line in body]
    assert times == sorted(times)
    text = "\n".join(body)
    for expected in ("[greeting]", "[listening]", "[thinking]", "[speaking]", "[tool_running]",
                     "[goodbye]", "[ended]", "CALLER  Hi, what are your hours on Thursday?",
                     "AGENT   Thank you for calling Bright Smile Dental",
                     "tool book_appointment", "hang up"):
        assert expected in text
    assert text.index("AGENT   Thank you for calling Bright Smile Dental. Goodbye!") < \
        text.index("hang up")
