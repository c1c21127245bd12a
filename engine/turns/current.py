"""The turn policy of the state a call is in now (flow defaults + the state's `turn:`)."""

from __future__ import annotations

from typing import Any

from flows.turns import TurnPolicy, policy_for


def current_policy(call: Any) -> TurnPolicy:
    """`call` is an `engine.call.Call` (or anything with `flow` and `state`)."""
    flow = call.flow
    state = flow.states.get(getattr(call, "state", ""), None)
    return policy_for(flow.settings.turn, dict(state.turn) if state else None)
