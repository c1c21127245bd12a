"""Which provider fills each slot (stt, tts, llm, embeddings): the one chooser of dialflow.

`auto` (the default) takes the cloud provider when its key is set and its adapter is
installed, else the offline one, so a machine with no keys runs fully local. Naming a
provider explicitly makes a missing key a start-up error that names the variable. Adapters
are looked up by name — flows.yaml never names Python code: the built-ins are the fixed
table below, and a team's own package adds providers through the `dialflow.providers`
entry-point group, each entry named `<slot>.<name>` (for example `tts.acme =
"acme_voice.tts:AcmeTts"`); flows.yaml then says `provider: acme` as for a built-in. `auto`
only ever picks a built-in. A class may set `key_env` (the variable holding its key) so a
missing key is reported by name.

The provider constructor convention (every built-in follows it, and a team's provider
must): the class has `from_flow(settings, env, **extras)`, a classmethod taking the flow's
typed `flows.model.Settings` and the environment mapping (never `os.environ` behind the
caller's back), that returns a ready provider; it reads its own section (`settings.stt`,
`settings.tts`, `settings.llm` or `settings.knowledge`) and its key from `env`, and ignores
extras it does not use. Brains get the retriever and the tool registry as extras
(`retriever=`, `registry=`). `build` makes a chosen provider that way. Importing this
module imports no adapter.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any

from engine.environment import (
    ANTHROPIC_API_KEY,
    DEEPGRAM_API_KEY,
    ELEVENLABS_API_KEY,
    OPENAI_API_KEY,
)
from flows.settings_knowledge import PROVIDER_ENTRY_POINTS

log = logging.getLogger("dialflow.providers")

ENTRY_POINT_GROUP = PROVIDER_ENTRY_POINTS
SLOTS = ("stt", "tts", "llm", "embeddings")
#: Where flows.yaml names each slot's provider.
SETTING = {"stt": "settings.stt.provider", "tts": "settings.tts.provider",
           "llm": "settings.llm.provider", "embeddings": "settings.knowledge.embeddings"}


@dataclass(frozen=True)
class Choice:
    name: str
    key_env: str | None  # the variable holding its API key; None for offline providers
    target: str  # "module:attribute" of the adapter class
    auto: bool = True  # may `auto` pick it when its key is set?
    builtin: bool = True  # False: registered by a package through the entry-point group


PROVIDERS: dict[str, dict[str, Choice]] = {
    "stt": {
        "deepgram": Choice("deepgram", DEEPGRAM_API_KEY, "adapters.deepgram.stt:DeepgramStt"),
        "local": Choice("local", None, "adapters.local.stt:LocalWhisperStt"),
    },
    "tts": {
        "elevenlabs": Choice("elevenlabs", ELEVENLABS_API_KEY,
                             "adapters.elevenlabs.tts:ElevenLabsTts"),
        "local": Choice("local", None, "adapters.local.tts:LocalPiperTts"),
    },
    "llm": {
        "anthropic": Choice("anthropic", ANTHROPIC_API_KEY,
                            "adapters.anthropic.brain:ClaudeBrain"),
        # OPENAI_API_KEY may be set for embeddings only: the OpenAI brain is never automatic.
        "openai": Choice("openai", OPENAI_API_KEY, "adapters.openai.brain:OpenAIBrain",
                         auto=False),
        "rules": Choice("rules", None, "adapters.local.brain:RulesBrain"),
    },
    "embeddings": {
        "openai": Choice("openai", OPENAI_API_KEY, "adapters.openai.embeddings:OpenAIEmbedder"),
        "local": Choice("local", None, "adapters.local.embeddings:LocalMiniLMEmbedder"),
    },
}
OFFLINE = {"stt": "local", "tts": "local", "llm": "rules", "embeddings": "local"}


class ProviderError(RuntimeError):
    """A provider cannot be used; the message names the setting or variable to fix."""


def registered() -> dict[str, dict[str, Choice]]:
    """Providers that installed packages add through the `dialflow.providers` group."""
    found: dict[str, dict[str, Choice]] = {slot: {} for slot in SLOTS}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        slot, _, name = ep.name.partition(".")
        name = name.strip().lower()
        if slot not in found or not name or ":" not in ep.value:
            log.warning("entry point %r = %r in %s is not `<slot>.<name> = module:Class` "
                        "with a slot among %s; ignored", ep.name, ep.value,
                        ENTRY_POINT_GROUP, ", ".join(SLOTS))
            continue
        if name in PROVIDERS[slot] or name == "auto":
            log.warning("entry point %r would replace the built-in %s provider %r; ignored",
                        ep.name, slot, name)
            continue
        found[slot][name] = Choice(name, None, ep.value, auto=False, builtin=False)
    return found


def table(slot: str) -> dict[str, Choice]:
    """Every provider `slot` can name: the built-ins, then the registered ones."""
    return {**PROVIDERS[slot], **registered()[slot]}


def provider_names() -> dict[str, frozenset[str]]:
    """The names flows.yaml may give each slot (what `dialflow check` accepts)."""
    plugins = registered()
    return {slot: frozenset(PROVIDERS[slot]) | frozenset(plugins[slot]) for slot in SLOTS}


def load(choice: Choice) -> Any:
    module, attribute = choice.target.split(":")
    return getattr(importlib.import_module(module), attribute)


def build(choice: Choice, settings: Any, env: Mapping[str, str], **extras: Any) -> Any:
    """The provider `choice` names, made by the convention: `Class.from_flow(settings, env,
    **extras)` with the flow's typed `Settings`."""
    cls = load(choice)
    make = getattr(cls, "from_flow", None)
    if not callable(make):
        raise ProviderError(f"the {choice.name} provider ({choice.target}) has no "
                            "from_flow(settings, env) classmethod; see engine/providers.py")
    return make(settings, env, **extras)


def _installed(choice: Choice) -> bool:
    try:
        load(choice)
    except ImportError:
        return False
    return True


def _key_env(choice: Choice) -> str | None:
    if choice.key_env or choice.builtin:
        return choice.key_env
    try:
        return getattr(load(choice), "key_env", None)
    except ImportError:
        return None


def choose(slot: str, setting: str | None, env: Mapping[str, str] | None = None,
           keyless: bool = False) -> Choice:
    """The provider for `slot` given its setting (default auto). `keyless`: the flow points
    it at its own server (an OpenAI-compatible base_url), so no key is needed."""
    env = os.environ if env is None else env
    wanted = (setting or "auto").strip().lower()
    if wanted == "auto":
        for choice in PROVIDERS[slot].values():
            if not choice.auto:
                continue
            has_key = bool(choice.key_env and (env.get(choice.key_env) or "").strip())
            if has_key and _installed(choice):
                return choice
            if has_key:
                log.warning("%s is set but the %s adapter is not available; using %s",
                            choice.key_env, choice.name, OFFLINE[slot])
        return PROVIDERS[slot][OFFLINE[slot]]
    names = table(slot)
    if wanted not in names:
        raise ProviderError(f"{SETTING[slot]} is {setting!r}: use auto or one of "
                            + ", ".join(names))
    choice = names[wanted]
    key_env = _key_env(choice)
    if key_env and not (env.get(key_env) or "").strip() and not keyless:
        raise ProviderError(f"{SETTING[slot]} is {wanted}, but {key_env} is "
                            "not set in the environment")
    if not _installed(choice):
        raise ProviderError(f"the {wanted} {slot} adapter is not available in this version; "
                            f"use {OFFLINE[slot]} or auto")
    return choice
