"""`ignore:` of a state: the events it drops on purpose, e.g. the caller's words in the goodbye.

Declaring a drop documents it (the diagram shows it) and tells `dialflow check` that the
caller's input is not lost by mistake there. Only event names are accepted.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flows.errors import did_you_mean
from flows.events import EVENTS
from flows.yaml_lines import YList

ErrorSink = Callable[[int, str, str], None]


def parse_ignore(raw: Any, line: int, error: ErrorSink) -> tuple[str, ...]:
    """`ignore: [caller.utterance, caller.speech_started]` as a tuple of event names."""
    if raw is None:
        return ()
    items = list(raw) if isinstance(raw, YList) else [raw]
    out: list[str] = []
    for index, item in enumerate(items):
        at = raw.line_of(index) if isinstance(raw, YList) else line
        if not isinstance(item, str) or item not in EVENTS:
            error(at, f"ignore: unknown event {item!r}", did_you_mean(str(item), EVENTS))
            continue
        out.append(item)
    return tuple(out)
