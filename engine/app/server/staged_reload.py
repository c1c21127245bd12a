"""What a live reload of flows.yaml must check and rebuild: what `dialflow serve` does at
start-up with the same file and environment, so a reload never reports a version that is
not really serving.

`prepare_reload` runs in the flow watcher's worker thread. It picks the providers again
(a provider whose key is missing is refused with the same message serve gives), builds the
tool registry from `http_tools` (a bad tool or a name clash is refused) and, when anything
the brain was built from changed (system prompt, llm settings, tools, business facts),
builds and warms a new brain. It returns the swap to make for new calls, or raises
`ReloadRefused` for a change that only a restart can apply (another provider, voice, STT
or knowledge base). Touches nothing until the swap runs on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from engine.environment import OPENAI_BASE_URL
from engine.providers import Choice, choose
from flows import Flow
from flows.model import Settings

SLOTS = ("stt", "tts", "llm")
RESTART_ONLY = ("stt", "tts", "knowledge")  # built into providers once per process


class ReloadRefused(Exception):
    """The edited flow is valid but cannot be applied without a restart."""


def choose_providers(settings: Settings, env: Mapping[str, str]) -> dict[str, Choice]:
    """The provider for each slot, as serve picks them (raises `ProviderError`)."""
    own_llm_server = bool(settings.llm.base_url or env.get(OPENAI_BASE_URL))
    named = {"stt": settings.stt.provider, "tts": settings.tts.provider,
             "llm": settings.llm.provider}
    return {slot: choose(slot, named.get(slot), env,
                         keyless=slot == "llm" and own_llm_server) for slot in SLOTS}


@dataclass
class Startup:
    """What serve built, and how to build it again. A part given to `build_services` as an
    override (tests, embedding) has no builder: a change that needs it rebuilt is refused."""

    env: Mapping[str, str]
    choices: dict[str, Choice]
    build_registry: Callable[[Flow], Any] | None
    build_brain: Callable[[Flow, Any], Any] | None


def _brain_inputs(flow: Flow) -> tuple[Any, ...]:
    raw = {k: v for k, v in flow.settings.raw.items() if k not in RESTART_ONLY}
    return raw, flow.http_tools


def prepare_reload(services: Any, startup: Startup, old: Flow,
                   new: Flow) -> Callable[[], None]:
    """Check `new` the way serve would and build what it needs; return the swap."""
    choices = choose_providers(new.settings, startup.env)
    for slot in SLOTS:
        if choices[slot].name != startup.choices[slot].name:
            raise ReloadRefused(f"settings.{slot} now selects the {choices[slot].name} "
                                f"provider but this server runs {startup.choices[slot].name}:"
                                " restart `dialflow serve` to change providers")
    for section in RESTART_ONLY:
        if new.settings.raw.get(section) != old.settings.raw.get(section):
            raise ReloadRefused(f"settings.{section} changed: it is built into the running "
                                "providers once, so restart `dialflow serve` to apply it")
    registry = None
    if startup.build_registry is not None:
        built = startup.build_registry(new)  # validates http_tools exactly as serve does
        registry = built if new.http_tools != old.http_tools else None
    elif new.http_tools != old.http_tools:
        raise _fixed("http_tools", "tool registry")
    brain = None
    if _brain_inputs(new) != _brain_inputs(old):
        if startup.build_brain is None:
            raise _fixed("settings the brain is built from (system prompt, llm, business)",
                         "brain")
        brain = startup.build_brain(new, registry or services.registry)

    def swap() -> None:
        if registry is not None:
            services.registry = registry
        if brain is not None:
            services.brain = brain

    return swap


def _fixed(what: str, part: str) -> ReloadRefused:
    return ReloadRefused(f"{what} changed, but this server was given its {part} at start-up "
                         "and cannot rebuild it: restart to apply the edit")
