"""Entry points: how a team's own package adds tools, behaviours and providers to dialflow.

A package declares, in its pyproject.toml, an entry point in one of dialflow's groups
(`dialflow.tools`, `dialflow.behaviours`, `dialflow.providers`); `load_group` loads every
entry point of a group once it is installed, in a stable order. What a loaded object means
is the group owner's business (a tool, a module of `@action`s, a provider class). A plug-in
that fails to load is a `PluginError` naming the entry point, its package and the cause: a
missing extension must never look like a flow mistake. flows.yaml names what plug-ins add
like built-ins, never by a dotted path. Imports nothing of ours.
"""

from __future__ import annotations

from importlib import metadata
from typing import Any

TOOLS = "dialflow.tools"
BEHAVIOURS = "dialflow.behaviours"
PROVIDERS = "dialflow.providers"


class PluginError(RuntimeError):
    """An installed entry point could not be loaded."""


def load_group(group: str) -> list[tuple[str, Any]]:
    """(entry point name, loaded object) for every installed entry point of `group`."""
    loaded: list[tuple[str, Any]] = []
    for point in sorted(metadata.entry_points(group=group), key=lambda p: (p.name, p.value)):
        try:
            loaded.append((point.name, point.load()))
        except Exception as exc:
            package = point.dist.name if point.dist is not None else "an installed package"
            raise PluginError(
                f"entry point {point.name!r} ({point.value}) of {package} in group {group} "
                f"could not be loaded: {type(exc).__name__}: {exc}; fix or uninstall "
                f"{package}") from exc
    return loaded
