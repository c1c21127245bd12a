"""`dialflow check` rules for outbound calls: the `answered_by` guard and its event.

`{answered_by: machine}` (or a list, `[machine, fax]`) tests who Twilio's answering-machine
detection says picked up; it only means something on `call.answered_by`, so a guard on any
other event is an error with its line. Part of the flow language: imports only `flows/`.
"""

from __future__ import annotations

from typing import Any

from flows.errors import FlowError, did_you_mean
from flows.events import ANSWERED_BY, ANSWERS
from flows.model import Flow


def answer_values(arg: Any) -> list[str]:
    """The answers an `answered_by` guard accepts, as text."""
    return [str(v) for v in arg] if isinstance(arg, (list, tuple)) else [str(arg)]


def check_answer(arg: Any) -> tuple[str, str] | None:
    """(problem, fix) for a bad `answered_by` argument, or None."""
    if isinstance(arg, (list, tuple)) and not arg:
        return "lists no answer", "write e.g. `{answered_by: machine}` or `[machine, fax]`"
    for value in answer_values(arg):
        if value not in ANSWERS:
            return (f"'{value}' is not an answer Twilio's detection gives",
                    did_you_mean(value, ANSWERS))
    return None


def check_answered_by_guards(flow: Flow) -> list[FlowError]:
    """An `answered_by` guard on an event other than call.answered_by never holds."""
    out: list[FlowError] = []
    for spec in flow.transitions:
        for guard in spec.guards:
            if guard.name == "answered_by" and spec.event != ANSWERED_BY:
                out.append(FlowError(
                    flow.path, guard.line or spec.line,
                    f"the answered_by guard is tested on {spec.event}, which does not say "
                    "who answered", f"move this transition under `{ANSWERED_BY}:`"))
    return out
