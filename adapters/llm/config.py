"""`LLMConfig` (model, max_tokens, temperature, base_url from the typed `settings.llm`) and
`api_key`.

Both brains read their settings here so the keys of flows.yaml mean the same to each. The
key is read from the mapping the brain was given (the environment), never logged.
Touches nothing but that mapping.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from adapters.llm.errors import MissingKeyError
from flows.sections import LlmSettings

DEFAULT_MAX_TOKENS = 300


@dataclass(frozen=True)
class LLMConfig:
    model: str
    max_tokens: int = DEFAULT_MAX_TOKENS
    temperature: float | None = None  # None: the provider's default
    base_url: str | None = None

    @classmethod
    def from_settings(cls, llm: LlmSettings | None, *, default_model: str) -> LLMConfig:
        """From the flow's typed `settings.llm`, with this provider's default model."""
        llm = llm or LlmSettings()
        return cls(model=llm.model or default_model,
                   max_tokens=llm.max_tokens or DEFAULT_MAX_TOKENS,
                   temperature=llm.temperature, base_url=llm.base_url)


def api_key(env: Mapping[str, str], variable: str, provider: str, hint: str = "") -> str:
    """The key in `env[variable]`; `MissingKeyError` naming the variable when unset."""
    key = (env.get(variable) or "").strip()
    if not key:
        raise MissingKeyError(variable, provider, hint)
    return key
