"""`EffectRunner`: carries out a call's effects through the ports, as call-owned tasks.

It has no list of effects: each effect (in its behaviour's module under `states/`) carries
itself out through the `Runtime` this runner is (`engine/effect.py`). The runner holds the
call's ports and the helpers effects share: speech and tools whose failures become error
events, and the stop_speaking count fillers watch. Results come back as events on the
call's queue (`agent.reply_started`, `llm.tool_call`, `tool.done`, `transfer.failed`, …),
so a failing adapter becomes an event the flow handles: a call never dies silently. It also
keeps the call's `Speculator` (engine/turns/speculation.py), which `Respond` asks first.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any, Protocol

from engine.effect import CallView, Effect
from engine.ports import Ports, ToolOutcome
from engine.turns.speculation import Speculator

log = logging.getLogger("dialflow.runner")


class RunnerCall(CallView, Protocol):
    def spawn(self, coro: Coroutine[Any, Any, Any], name: str, keep: bool = False) -> None: ...


class EffectRunner:
    def __init__(self, call: RunnerCall, ports: Ports):
        self.call = call
        self.ports = ports
        self.interruptions = 0
        self.spawn = call.spawn  # (bound once: one call less per effect)
        self.speculation = Speculator(call, ports)  # a reply started at a pause, if any

    def execute(self, effect: Effect) -> None:
        effect.carry_out(self)

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str, keep: bool = False) -> None:
        """Run `coro` as a task owned by the current state (`keep`: by the call)."""
        self.call.spawn(coro, name, keep)

    async def say(self, speech_id: str, text: str) -> None:
        try:
            await self.ports.speaker.say(speech_id, text)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.failed("tts.error", "speaker", exc)

    async def tool(self, name: str, args: dict[str, Any]) -> ToolOutcome:
        try:
            return await self.ports.tools.run(name, args, self.call.call_id)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("call %s: tool %s raised", self.call.call_id, name)
            return ToolOutcome(ok=False, error=f"{type(exc).__name__}: {exc}")

    def failed(self, event: str, component: str, exc: Exception) -> None:
        log.error("call %s: %s failed: %s: %s", self.call.call_id, component,
                  type(exc).__name__, exc)
        self.call.post(event, error=f"{type(exc).__name__}: {exc}")
