"""Problems found in a flow file, each with the file, the line and what to write instead."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class FlowError:
    """One problem in a flow file. `fix` tells the user what to write instead."""

    path: str
    line: int
    message: str
    fix: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        text = f"{self.path}:{self.line}: {self.severity}: {self.message}"
        return f"{text}\n    fix: {self.fix}" if self.fix else text


class FlowInvalid(Exception):
    """Raised when a flow file has errors; it never starts a call."""

    def __init__(self, errors: list[FlowError]):
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A 'use one of …' hint, naming the closest match first when there is one."""
    choices = sorted(choices)
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    listing = ", ".join(choices)
    if close:
        return f"did you mean '{close[0]}'? (known: {listing})"
    return f"use one of: {listing}"
