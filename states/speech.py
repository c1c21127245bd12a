"""Behaviours that make the agent speak or stop speaking, their effects and how the speaker
port carries them out."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from engine.effect import Effect, Runtime
from flows.durations import parse_duration
from flows.signatures import ArgKind, StepContext, action
from flows.templates import is_templated, render
from states.variables import template_values


@dataclass(frozen=True)
class Say(Effect):
    """Speak a prompt from flows.yaml."""

    prompt: str
    text: str
    kind = "say"

    def describe(self) -> str:
        return f"say {self.prompt}"

    def carry_out(self, runtime: Runtime) -> None:
        runtime.call.last_said = self.text
        self._speak(runtime)

    def _speak(self, runtime: Runtime) -> None:
        speech_id = runtime.call.playback.begin(self.text)
        runtime.spawn(runtime.say(speech_id, self.text), f"say:{self.prompt}")


@dataclass(frozen=True)
class Repeat(Say):
    """Say again what the caller last heard (`repeat_last`)."""

    kind = "repeat_last"

    def describe(self) -> str:
        return "repeat_last"

    def carry_out(self, runtime: Runtime) -> None:
        self._speak(runtime)  # what was said last stays what it was


@dataclass(frozen=True)
class Filler(Effect):
    """Say `text` after `after` seconds, then every `every` seconds (None: once), while the
    call stays in the state that asked; a stop_speaking (barge-in) ends it. `hold`: after
    the words (or instead of them, if there are none), loop the hold music (`music`, the
    flow's `settings.hold_music`) until the state is left or the caller cuts in."""

    prompt: str
    text: str
    after: float
    every: float | None = None
    hold: bool = False
    music: str = ""
    kind = "filler"

    def describe(self) -> str:
        return f"filler {self.prompt or ''}{' + hold music' if self.hold else ''}".strip()

    def carry_out(self, runtime: Runtime) -> None:
        runtime.spawn(self._run(runtime, runtime.call.state, runtime.interruptions),
                      f"filler:{self.prompt}")

    async def _run(self, runtime: Runtime, state: str, interruptions: int) -> None:
        """Until the state is left (its result came) or the caller cuts in."""
        await asyncio.sleep(self.after)
        while runtime.call.state == state and runtime.interruptions == interruptions:
            if self.text:
                speech_id = runtime.call.playback.begin(self.text)
                await runtime.say(speech_id, self.text)
            if self.hold:
                await self._hold(runtime, interruptions)
                return
            if self.every is None:
                return
            await asyncio.sleep(self.every)

    async def _hold(self, runtime: Runtime, interruptions: int) -> None:
        """Music until this task is cancelled (the state is left); a barge-in's clear
        stops the speaker's music by itself."""
        if runtime.interruptions != interruptions:
            return
        speaker = runtime.ports.speaker
        speaker.hold(self.music)
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            speaker.stop_hold()


@dataclass(frozen=True)
class StopSpeaking(Effect):
    """Cancel speech in progress and clear what the telephony side has buffered."""

    kind = "stop_speaking"

    def carry_out(self, runtime: Runtime) -> None:
        runtime.interruptions += 1
        runtime.ports.speaker.clear()
        runtime.call.playback.clear()
        runtime.call.post("agent.playback_cleared")


@action("say", ArgKind.PROMPT)
def say(ctx: StepContext, prompt: Any) -> list[Effect]:
    """Speak a prompt from flows.yaml, its `{names}` filled in for this call."""
    return [Say(prompt=prompt, text=_text(ctx, prompt))]


def _text(ctx: StepContext, prompt: str) -> str:
    text = ctx.flow.prompts[prompt]
    if is_templated(text):
        text = " ".join(render(text, template_values(ctx)).split())
    return text


@action("filler", ArgKind.FILLER)
def filler(ctx: StepContext, spec: Any) -> list[Effect]:
    """While the state waits (a tool, a slow reply), say a prompt after a delay, then again
    every so often, or then loop the hold music (`hold_music: true`); it stops when the
    state is left or the caller cuts in."""
    every, prompt = spec.get("every"), spec.get("say", "")
    return [Filler(prompt=prompt, text=_text(ctx, prompt) if prompt else "",
                   after=parse_duration(spec.get("after", "2s")),
                   every=parse_duration(every) if every else None,
                   hold=spec.get("hold_music") is True, music=ctx.flow.settings.hold_music)]


@action("repeat_last")
def repeat_last(ctx: StepContext, _: Any) -> list[Effect]:
    """Say again what the caller last heard (the last reply, or else the last prompt)."""
    text = ctx.last_reply or ctx.last_said
    return [Repeat(prompt="repeat_last", text=text)] if text else []


@action("stop_speaking")
def stop_speaking(ctx: StepContext, _: Any) -> list[Effect]:
    """Cancel speech in progress and clear the caller's playback buffer."""
    return [StopSpeaking()]
