"""The `collect_digits` behaviour: keypad input longer than one key.

    enter:
      - {say: ask_member_id}
      - {collect_digits: {count: 6, finish: "#", timeout: 5s, retries: 2}}
    on:
      dtmf.collected: {to: checking, do: [{set: {member_id: "{event.digits}"}}]}
      dtmf.retry: {do: [{say: try_again}]}
      dtmf.timeout: {to: escalating}

A one-key menu needs no collection: `caller.dtmf: [{if: {digit: "1"}, to: …}, …]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.effect import CallControl, ControlEffect, Effect
from flows.durations import parse_duration
from flows.signatures import ArgKind, StepContext, action

DEFAULT_TIMEOUT = 5.0



@dataclass(frozen=True)
class CollectDigits(ControlEffect):
    """Gather keypad digits until `count` or the `finish` key, then post dtmf.collected;
    `timeout` between keys (and before the first) starts over up to `retries` times
    (dtmf.retry), then dtmf.timeout. Starts at once: the call's keypad collects."""

    count: int | None = None
    finish: str | None = None
    timeout: float = 5.0
    retries: int = 0
    kind = "collect_digits"

    def apply(self, call: CallControl) -> None:
        call.keypad.start(self, call.loop)


@action("collect_digits", ArgKind.DIGIT_COLLECTION)
def collect_digits(ctx: StepContext, spec: Any) -> list[Effect]:
    """Gather keypad digits (a count, or up to a finishing key) into dtmf.collected."""
    timeout = spec.get("timeout")
    return [CollectDigits(count=spec.get("count"),
                          finish=str(spec["finish"]) if spec.get("finish") is not None else None,
                          timeout=parse_duration(timeout) if timeout else DEFAULT_TIMEOUT,
                          retries=int(spec.get("retries") or 0))]
