"""The catalogue of behaviours: imports every module of this package (each registers its
behaviours and guards with `@action`/`@guard`), then each installed `dialflow.behaviours`
entry point (a team's module of them), so the signatures in `flows/signatures.py` are
complete. A new built-in behaviour is a new module here: nothing lists it. Importing
`states` imports this.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

from flows.plugins import BEHAVIOURS, load_group
from flows.signatures import ACTIONS, GUARDS, ArgKind, Registered, StepContext, action, guard

__all__ = ["ACTIONS", "GUARDS", "ArgKind", "Registered", "StepContext", "action", "guard"]

for _module in sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])):
    if _module != "registry":
        importlib.import_module(f"states.{_module}")
load_group(BEHAVIOURS)
