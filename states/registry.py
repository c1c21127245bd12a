"""The catalogue of behaviours: imports every built-in behaviour module, then each installed
`dialflow.behaviours` entry point (a team's module of `@action`s/`@guard`s), so the
signatures in `flows/signatures.py` are complete. Importing `states` imports this.
"""

from __future__ import annotations

from flows.plugins import BEHAVIOURS, load_group
from flows.signatures import ACTIONS, GUARDS, ArgKind, Registered, StepContext, action, guard
from states import (  # noqa: F401  (importing a module registers its behaviours)
    conversation,
    counters,
    flow_tools,
    guards,
    keypad,
    speech,
    telephony,
    time_guards,
    timers,
    variables,
)

__all__ = ["ACTIONS", "GUARDS", "ArgKind", "Registered", "StepContext", "action", "guard"]

load_group(BEHAVIOURS)
