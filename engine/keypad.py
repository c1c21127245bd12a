"""`DigitCollector`: the keypad input a state asked for with `collect_digits`.

While it collects, the caller's keys go to it instead of the flow (a 0 inside a member
number is not "talk to a human"). It posts `dtmf.collected` when it has `count` digits or
the finishing key, `dtmf.retry` when the caller paused longer than `timeout` and a retry is
left (it starts over), and `dtmf.timeout` when none is. Each collection has a number: the
call drops dtmf.* events of a collection that was cancelled (the state was left).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from states.keypad import CollectDigits

MAX_DIGITS = 32  # bounded: a stuck key cannot grow the buffer


class DigitCollector:
    def __init__(self, post: Callable[..., None]):
        self._post = post
        self._spec: CollectDigits | None = None
        self._digits: list[str] = []
        self._attempt = 0
        self._timer: asyncio.TimerHandle | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.collection = 0

    @property
    def active(self) -> bool:
        return self._spec is not None

    def start(self, spec: CollectDigits, loop: asyncio.AbstractEventLoop | None) -> None:
        self.cancel()
        self.collection += 1  # events of an earlier collection are stale from now on
        self._spec, self._loop, self._attempt = spec, loop, 0
        self._arm()

    def press(self, digit: str) -> str:
        """Take one key; returns what it did (for the call's trace)."""
        spec = self._spec
        if spec is None:
            return "not collecting"
        if spec.finish is not None and digit == spec.finish:
            if self._digits:
                self._done("dtmf.collected")
                return "finished"
            return self._expire()
        self._digits.append(digit)
        if (spec.count is not None and len(self._digits) >= spec.count) or \
                len(self._digits) >= MAX_DIGITS:
            self._done("dtmf.collected")
            return "complete"
        self._arm()
        return f"collected {len(self._digits)}"

    def cancel(self) -> None:
        """Stop collecting (the state was left); late events of this collection are stale."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._spec is not None:
            self.collection += 1
        self._spec, self._digits = None, []

    def is_current(self, data: dict[str, Any]) -> bool:
        return data.get("collection") == self.collection

    def _arm(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
        if self._loop is not None and self._spec is not None:
            self._timer = self._loop.call_later(self._spec.timeout, self._expire)

    def _expire(self) -> str:
        spec = self._spec
        if spec is None:
            return "not collecting"
        if self._attempt < spec.retries:
            self._attempt += 1
            digits, self._digits = "".join(self._digits), []
            self._post("dtmf.retry", digits=digits, attempt=self._attempt,
                       collection=self.collection)
            self._arm()
            return "starts over"
        self._done("dtmf.timeout")
        return "timed out"

    def _done(self, event: str) -> None:
        digits = "".join(self._digits)
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._spec, self._digits = None, []
        self._post(event, digits=digits, collection=self.collection)
