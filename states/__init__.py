"""The behaviours a state in flows.yaml can name, and the guards a transition can test.

One behaviour per module: its signature (`@action(name, ArgKind)`, from
`flows/signatures.py`), the effect it returns and how the effect is carried out through the
ports (`Effect.carry_out`, `engine/effect.py`) sit together, so a new behaviour is one
module. A behaviour is `(ctx, arg) -> list[Effect]` and a guard `(ctx, arg) -> bool`; they
never await and never do I/O: they only look at the call (`StepContext`) and return effects.
A team's package adds its own through the `dialflow.behaviours` entry point group.
"""

from states.registry import ACTIONS, GUARDS, ArgKind, StepContext, action, guard

__all__ = ["ACTIONS", "GUARDS", "ArgKind", "StepContext", "action", "guard"]
