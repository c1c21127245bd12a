"""Which provider fills each slot (stt, tts, llm), chosen from flows.yaml and the environment.

`auto` (the default) takes the cloud provider when its key is set and its adapter is
installed, else the offline one, so a machine with no keys runs fully local. Naming a
provider explicitly makes a missing key a start-up error that names the variable. Adapters
are looked up in this fixed table — flows.yaml never names Python code.
"""

from __future__ import annotations

import importlib
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from engine.environment import (
    ANTHROPIC_API_KEY,
    DEEPGRAM_API_KEY,
    ELEVENLABS_API_KEY,
    OPENAI_API_KEY,
)

log = logging.getLogger("dialflow.providers")


@dataclass(frozen=True)
class Choice:
    name: str
    key_env: str | None  # the variable holding its API key; None for offline providers
    target: str  # "module:attribute" of the adapter class
    auto: bool = True  # may `auto` pick it when its key is set?


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
}
OFFLINE = {"stt": "local", "tts": "local", "llm": "rules"}


class ProviderError(RuntimeError):
    """A provider cannot be used; the message names the setting or variable to fix."""


def load(choice: Choice) -> Any:
    module, attribute = choice.target.split(":")
    return getattr(importlib.import_module(module), attribute)


def _installed(choice: Choice) -> bool:
    try:
        load(choice)
    except ImportError:
        return False
    return True


def choose(slot: str, setting: str | None, env: Mapping[str, str] | None = None,
           keyless: bool = False) -> Choice:
    """The provider for `slot` given its `provider:` setting (default auto). `keyless`: the
    flow points it at its own server (an OpenAI-compatible base_url), so no key is needed."""
    env = os.environ if env is None else env
    table = PROVIDERS[slot]
    wanted = (setting or "auto").strip().lower()
    if wanted == "auto":
        for choice in table.values():
            if not choice.auto:
                continue
            if choice.key_env and env.get(choice.key_env) and _installed(choice):
                return choice
            if choice.key_env and env.get(choice.key_env):
                log.warning("%s is set but the %s adapter is not available; using %s",
                            choice.key_env, choice.name, OFFLINE[slot])
        return table[OFFLINE[slot]]
    if wanted not in table:
        raise ProviderError(f"settings.{slot}.provider is {setting!r}: use auto or one of "
                            + ", ".join(table))
    choice = table[wanted]
    if choice.key_env and not env.get(choice.key_env) and not keyless:
        raise ProviderError(f"settings.{slot}.provider is {wanted}, but {choice.key_env} is "
                            "not set in the environment")
    if not _installed(choice):
        raise ProviderError(f"the {wanted} {slot} adapter is not available in this version; "
                            f"use {OFFLINE[slot]} or auto")
    return choice
