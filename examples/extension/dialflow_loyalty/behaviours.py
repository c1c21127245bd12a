"""The `spell_out` behaviour: say a call variable one character at a time ("A, 1, 2").

One module holds all of it: the flows.yaml signature (`@action` with its argument kind), the
effect it returns (`SpellOut`) and how the effect is carried out (through the speaker port,
as a task the state owns, a failure becoming `tts.error`). Registered through the
`dialflow.behaviours` entry point.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.effect import Effect, Runtime
from flows.signatures import ArgKind, StepContext, action


@dataclass(frozen=True)
class SpellOut(Effect):
    """Say `text` as separate characters."""

    name: str
    text: str
    kind = "spell_out"

    def describe(self) -> str:
        return f"spell_out {self.name}"  # not the value: it may be a member number

    def carry_out(self, runtime: Runtime) -> None:
        runtime.call.last_said = self.text
        speech_id = runtime.call.playback.begin(self.text)
        runtime.spawn(runtime.say(speech_id, self.text), f"spell_out:{self.name}")


@action("spell_out", ArgKind.VAR)
def spell_out(ctx: StepContext, name: Any) -> list[Effect]:
    """Say a variable one character at a time (a member or confirmation number)."""
    value = str(ctx.vars.get(name, "") or "")
    return [SpellOut(name=str(name), text=", ".join(value.replace(" ", "")))] if value else []
