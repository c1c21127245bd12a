"""`FallbackBrain`: brains tried in order for each turn (e.g. Claude, then the rules brain).

A brain that fails before it said anything hands the turn to the next one and the switch is
logged with the call id; a failure after the first sentence is re-raised (the caller has
heard one voice of the reply; the flow handles `llm.error`). Works on the `Brain` port only.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from engine.ports import BrainOutput, ToolCall, ToolOutcome, Turn

log = logging.getLogger("dialflow.brain")


class FallbackBrain:
    def __init__(self, brains: Sequence[Any]):
        if not brains:
            raise ValueError("FallbackBrain needs at least one brain")
        self.brains = list(brains)
        self.name = ">".join(str(getattr(b, "name", type(b).__name__)) for b in self.brains)
        self._answering: dict[str, Any] = {}  # call id -> the brain that answered last
        self.tentative_ok = all(getattr(b, "tentative_ok", False) for b in self.brains)

    async def warm(self) -> None:
        for brain in self.brains:
            warm = getattr(brain, "warm", None)
            if warm is not None:
                await warm()

    async def respond(self, turn: Turn) -> AsyncIterator[BrainOutput]:
        last_error: Exception | None = None
        if turn.tentative is not None:  # speculative: which brain answered is undone too
            turn.tentative.restore_on_drop(self._answering, turn.call_id)
        for index, brain in enumerate(self.brains):
            said = False
            try:
                async for item in brain.respond(turn):
                    said = True
                    self._answering[turn.call_id] = brain
                    yield item
                return
            except Exception as exc:
                if said or index == len(self.brains) - 1:
                    raise
                last_error = exc
                log.warning("call %s: brain %s failed (%s: %s); trying %s", turn.call_id,
                            getattr(brain, "name", brain), type(exc).__name__, exc,
                            getattr(self.brains[index + 1], "name", "the next"))
        if last_error is not None:  # pragma: no cover - the loop re-raises on the last brain
            raise last_error

    def tool_result(self, call_id: str, tool: ToolCall, outcome: ToolOutcome) -> None:
        for brain in self.brains:  # each brain keeps only the results of calls it knows
            brain.tool_result(call_id, tool, outcome)

    def forget(self, call_id: str) -> None:
        self._answering.pop(call_id, None)
        for brain in self.brains:
            brain.forget(call_id)
