"""Guards: named conditions a transition in flows.yaml can test with `if:` or `unless:`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flows.signatures import ArgKind, StepContext, guard
from flows.turns import policy_for


@guard("below_limit", ArgKind.COUNTER)
def below_limit(ctx: StepContext, counter: Any) -> bool:
    """The counter is still below its max from counters:."""
    return ctx.counters.get(counter, 0) < ctx.flow.counters[counter]


@guard("long_enough")
def long_enough(ctx: StepContext, _: Any) -> bool:
    """The caller has spoken at least barge_in.min_speech_ms (the state's `turn:` may say)."""
    duration = ctx.data.get("duration_ms")
    state = ctx.flow.states.get(ctx.state)
    policy = policy_for(ctx.flow.settings.turn, dict(state.turn) if state else None)
    return duration is not None and float(duration) >= policy.min_speech_ms


@guard("understood")
def understood(ctx: StepContext, _: Any) -> bool:
    """The utterance has words and its confidence reaches settings.stt.min_confidence."""
    return clear_words(ctx.data, ctx.flow.settings.min_confidence)


def clear_words(data: Mapping[str, Any], min_confidence: float) -> bool:
    """`caller.utterance` data with words heard at `min_confidence` or better (`understood`)."""
    text = str(data.get("text") or "").strip()
    confidence = data.get("confidence")
    return bool(text) and (confidence is None or float(confidence) >= min_confidence)


@guard("digit", ArgKind.DIGIT)
def digit(ctx: StepContext, key: Any) -> bool:
    """The caller pressed this key."""
    return str(ctx.data.get("digit")) == str(key)


@guard("tool", ArgKind.TEXT)
def tool(ctx: StepContext, name: Any) -> bool:
    """The brain asked for this tool."""
    return ctx.data.get("name") == name
