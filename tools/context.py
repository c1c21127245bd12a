"""`ToolContext`: what the engine knows about the call and hands to every tool it runs.

The LLM never supplies it: a tool parameter typed `ToolContext` is filled by the runner and
left out of the tool's schema. It carries the caller id from telephony, so tools can refuse
to look up another number. This module only holds data; it touches nothing itself.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field

from tools.calendar import BusinessCalendar
from tools.phone import try_normalize_phone
from tools.storage import Storage, utc_now


@dataclass(frozen=True)
class ToolContext:
    """One call's context for tools.

    `caller_phone` is the caller id as telephony sent it (None when withheld); `clock`
    returns the current aware time and is injectable for tests.
    """

    call_id: str
    caller_phone: str | None
    calendar: BusinessCalendar
    storage: Storage
    clock: Callable[[], dt.datetime] = field(default=utc_now)

    def now(self) -> dt.datetime:
        moment = self.clock()
        if moment.tzinfo is None:
            raise ValueError("ToolContext.clock must return a timezone-aware datetime")
        return moment

    @property
    def caller_e164(self) -> str | None:
        """The caller id normalised to E.164, or None if withheld or unusable."""
        return try_normalize_phone(self.caller_phone)
