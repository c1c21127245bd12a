"""The behaviours a state in flows.yaml can name, and the guards a transition can test.

Each behaviour is a small function `(ctx, arg) -> list[Effect]` and each guard a function
`(ctx, arg) -> bool`, registered by name in `states/registry.py`. They never await and never
do I/O: they only look at the call (`StepContext`) and return effects.
"""

from states.registry import ACTIONS, GUARDS, ArgKind, StepContext

__all__ = ["ACTIONS", "GUARDS", "ArgKind", "StepContext"]
