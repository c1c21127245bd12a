"""The exceptions of the LLM brains.

`MissingKeyError` (a `ProviderError`, so `dialflow serve` reports it cleanly) names the
environment variable to set. `LLMError` is what `respond` raises once a request failed for
good; the engine turns it into `llm.error`. `LLMTimeout` is the per-request timeout, and
`IncompleteStream` a stream that ended before the provider said it was done. Messages never
contain an API key. Touches nothing.
"""

from __future__ import annotations

from engine.providers import ProviderError


class MissingKeyError(ProviderError):
    """The provider's API key is not in the environment."""

    def __init__(self, variable: str, provider: str, hint: str = "") -> None:
        message = f"the {provider} brain needs an API key: set {variable} in the environment"
        super().__init__(message + (f" ({hint})" if hint else ""))
        self.variable = variable


class LLMError(RuntimeError):
    """A reply could not be produced (after the retries the failure allowed)."""


class LLMTimeout(LLMError):
    """The provider did not answer (or stopped streaming) within the request timeout."""


class IncompleteStream(RuntimeError):
    """The response stream ended (or the connection dropped) before its final event."""
