"""Behaviours that make the agent speak or stop speaking."""

from __future__ import annotations

from typing import Any

from engine.effects import Effect, Say, StopSpeaking
from states.registry import ArgKind, StepContext, action


@action("say", ArgKind.PROMPT)
def say(ctx: StepContext, prompt: Any) -> list[Effect]:
    """Speak a prompt from flows.yaml."""
    return [Say(prompt=prompt, text=ctx.flow.prompts[prompt])]


@action("stop_speaking")
def stop_speaking(ctx: StepContext, _: Any) -> list[Effect]:
    """Cancel speech in progress and clear the caller's playback buffer."""
    return [StopSpeaking()]
