"""Behaviours that make the agent speak or stop speaking."""

from __future__ import annotations

from typing import Any

from engine.effects import Effect, Filler, Repeat, Say, StopSpeaking
from flows.durations import parse_duration
from flows.templates import is_templated, render
from states.registry import ArgKind, StepContext, action
from states.variables import template_values


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
    every so often; it stops when the state is left or the caller cuts in."""
    every = spec.get("every")
    return [Filler(prompt=spec["say"], text=_text(ctx, spec["say"]),
                   after=parse_duration(spec.get("after", "2s")),
                   every=parse_duration(every) if every else None)]


@action("repeat_last")
def repeat_last(ctx: StepContext, _: Any) -> list[Effect]:
    """Say again what the caller last heard (the last reply, or else the last prompt)."""
    text = ctx.last_reply or ctx.last_said
    return [Repeat(prompt="repeat_last", text=text)] if text else []


@action("stop_speaking")
def stop_speaking(ctx: StepContext, _: Any) -> list[Effect]:
    """Cancel speech in progress and clear the caller's playback buffer."""
    return [StopSpeaking()]
