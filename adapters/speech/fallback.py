"""`FallbackTts`: a `TtsProvider` that hands a sentence to the next provider when one fails.

For each `synthesize(text)` the providers are tried in order (e.g. ElevenLabs, then the
local piper voice). A provider that raises before yielding any audio is closed, the switch
is logged with the call id, and the next one speaks the sentence. Once a provider has
yielded audio it owns the sentence: a later failure is re-raised as it is, because
finishing the sentence in another voice would sound broken (the engine turns the error
into `tts.error`). When every provider failed, `AllProvidersFailed` lists why. Each
sentence starts again with the first provider. `name` shows the chain: "elevenlabs>local-piper".
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing

from adapters.speech.streams import open_synthesis
from engine.media import TtsProvider, describe

log = logging.getLogger("dialflow.speech.fallback")


class AllProvidersFailed(RuntimeError):
    """No provider of the chain produced audio; `errors` pairs each name with its error."""

    def __init__(self, errors: Sequence[tuple[str, BaseException]], what: str = "speak") -> None:
        self.errors = list(errors)
        reasons = "; ".join(f"{name}: {type(exc).__name__}: {exc}" for name, exc in errors)
        super().__init__(f"no tts provider could {what}: {reasons}")


class FallbackTts:
    def __init__(self, providers: Sequence[TtsProvider]) -> None:
        if not providers:
            raise ValueError("FallbackTts needs at least one provider")
        self.providers = tuple(providers)
        self.name = ">".join(describe(p) for p in self.providers)

    async def warm(self) -> None:
        """Warm every provider; fail only when none of them could be warmed."""
        errors: list[tuple[str, BaseException]] = []
        for provider in self.providers:
            try:
                await provider.warm()
            except Exception as exc:
                log.warning("tts %s failed to warm up: %s: %s", describe(provider),
                            type(exc).__name__, exc)
                errors.append((describe(provider), exc))
        if len(errors) == len(self.providers):
            raise AllProvidersFailed(errors, "warm up")

    async def synthesize(self, text: str, call_id: str = "-") -> AsyncIterator[bytes]:
        errors: list[tuple[str, BaseException]] = []
        for index, provider in enumerate(self.providers):
            async with aclosing(open_synthesis(provider, text, call_id)) as stream:
                try:
                    first = await anext(stream)
                except StopAsyncIteration:
                    return
                except Exception as exc:
                    errors.append((describe(provider), exc))
                    if index + 1 < len(self.providers):
                        log.warning("call %s: tts %s failed before any audio (%s: %s); "
                                    "switching to %s for this sentence", call_id,
                                    describe(provider), type(exc).__name__, exc,
                                    describe(self.providers[index + 1]))
                    continue
                if index:
                    log.info("call %s: sentence spoken by fallback tts %s", call_id,
                             describe(provider))
                yield first
                async for chunk in stream:
                    yield chunk
                return
        raise AllProvidersFailed(errors)
