"""The end-of-turn decision at a pause: end the turn now, or wait for more (up to a cap).

Inputs are the state's `TurnPolicy`, the speculative transcript of what the caller said up
to the pause, and the audio turn model's probability that the turn is finished (None when
the model is off or unavailable). The transcript wins when it is clearly unfinished
(`completeness`); otherwise the model decides. Pure: no I/O, no clock.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.turns.completeness import unfinished
from flows.turns import TurnPolicy


@dataclass(frozen=True)
class Decision:
    end_now: bool
    reason: str  # why, for logs and the bench ("model 0.12", "ends on 'and'", ...)


def decide(policy: TurnPolicy, text: str, probability: float | None) -> Decision:
    """End the turn at this pause, or wait up to `policy.max_wait_ms` of silence."""
    why = unfinished(text, policy.expect)
    if why:
        return Decision(False, f"transcript {why}")
    if probability is not None and policy.model != "off" and probability < policy.threshold:
        return Decision(False, f"model {probability:.2f} < {policy.threshold:.2f}")
    if probability is None or policy.model == "off":
        return Decision(True, "transcript reads finished")
    return Decision(True, f"model {probability:.2f}")
