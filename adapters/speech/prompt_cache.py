"""`CachedPrompts`: a `TtsProvider` that speaks the flow's static prompts from disk.

The prompts of `flows.yaml` (greeting, reprompt, goodbye, transfer…) never change between
calls, so they are synthesized once by the wrapped provider and kept in an `AudioStore`
under a hash of (provider name, voice, text): changing the voice, the provider or a
prompt's wording makes a new entry instead of replaying stale audio. `warm()` renders the
prompts not cached yet before the first call, so the greeting starts without waiting for
TTS. `synthesize(text)` serves a cached prompt at once in 20 ms frames; a prompt not cached
yet is streamed from the provider and stored when it finished (a cancelled or failed
synthesis stores nothing); any other text goes straight to the provider, uncached.
Prompt texts are matched with their whitespace collapsed. Cached audio is also kept in
memory, so disk is read once per prompt and process.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import AsyncIterator, Iterable
from contextlib import aclosing

from adapters.speech.audio_store import AudioStore
from adapters.speech.streams import open_synthesis
from engine.audio_format import frames
from engine.media import TtsProvider, describe

log = logging.getLogger("dialflow.speech.prompts")

KEY_VERSION = "prompt-cache-1"


def cache_key(provider: str, voice: str, text: str) -> str:
    """The store key of one prompt: a hash of provider name, voice and text."""
    digest = hashlib.sha256()
    for part in (KEY_VERSION, provider, voice, text):
        digest.update(part.encode("utf-8"))
        digest.update(b"\0")
    return digest.hexdigest()


def normalize(text: str) -> str:
    return " ".join(text.split())


class CachedPrompts:
    """Wraps `inner`; `texts` are the static prompts worth caching. `voice` defaults to the
    provider's `voice` attribute (ElevenLabs: voice id and model), or "" when it has none."""

    def __init__(self, inner: TtsProvider, cache_dir: str | os.PathLike[str],
                 texts: Iterable[str], *, voice: str | None = None,
                 warm_concurrency: int = 2) -> None:
        if warm_concurrency < 1:
            raise ValueError(f"warm_concurrency must be >= 1, got {warm_concurrency}")
        self.inner = inner
        self.provider = describe(inner)
        self.voice = voice if voice is not None else str(getattr(inner, "voice", "") or "")
        self.name = f"{self.provider}+prompt-cache"
        self.store = AudioStore(cache_dir)
        self.prompts = frozenset(t for t in map(normalize, texts) if t)
        self.warm_concurrency = warm_concurrency
        self._memory: dict[str, bytes] = {}

    def key_for(self, text: str) -> str:
        return cache_key(self.provider, self.voice, normalize(text))

    async def cached(self, text: str) -> bytes | None:
        """The cached audio of a prompt, or None (not a prompt, or not cached yet)."""
        text = normalize(text)
        if text not in self.prompts:
            return None
        key = self.key_for(text)
        audio = self._memory.get(key)
        if audio is None:
            audio = await asyncio.to_thread(self.store.load, key)
            if audio:
                self._memory[key] = audio
        return audio or None

    async def warm(self) -> None:
        """Warm the provider, then synthesize every prompt that is not cached yet. A prompt
        that fails is logged and left for its first use; warm-up itself does not fail."""
        await self.inner.warm()
        missing = [text for text in sorted(self.prompts) if await self.cached(text) is None]
        gate = asyncio.Semaphore(self.warm_concurrency)

        async def build(text: str) -> bool:
            async with gate:
                try:
                    await self._render(text)
                except Exception as exc:
                    log.warning("prompt %r not cached (%s): %s", _short(text),
                                type(exc).__name__, exc)
                    return False
                return True

        built = await asyncio.gather(*(build(text) for text in missing))
        log.info("prompt cache %s: %d of %d prompts were cached, %d synthesized, %d failed",
                 self.name, len(self.prompts) - len(missing), len(self.prompts),
                 sum(built), len(built) - sum(built))

    async def synthesize(self, text: str, call_id: str = "-") -> AsyncIterator[bytes]:
        prompt = normalize(text)
        if prompt not in self.prompts:
            async with aclosing(open_synthesis(self.inner, text, call_id)) as stream:
                async for chunk in stream:
                    yield chunk
            return
        audio = await self.cached(prompt)
        if audio is not None:
            log.debug("call %s: prompt %r from the cache", call_id, _short(prompt))
            for frame in frames(audio, last="short"):
                yield frame
            return
        log.info("call %s: prompt %r not cached yet; synthesizing", call_id, _short(prompt))
        parts: list[bytes] = []
        async with aclosing(open_synthesis(self.inner, prompt, call_id)) as stream:
            async for chunk in stream:
                parts.append(chunk)
                yield chunk
        await self._keep(prompt, b"".join(parts))

    async def _render(self, text: str) -> None:
        async with aclosing(open_synthesis(self.inner, text)) as stream:
            audio = b"".join([chunk async for chunk in stream])
        await self._keep(text, audio)

    async def _keep(self, text: str, audio: bytes) -> None:
        if not audio:
            log.warning("prompt %r: the provider returned no audio; not cached", _short(text))
            return
        key = self.key_for(text)
        self._memory[key] = audio
        try:
            await asyncio.to_thread(self.store.save, key, audio)
        except OSError as exc:  # the audio was spoken; only the disk copy is missing
            log.warning("prompt %r not written to %s: %s", _short(text), self.store.directory,
                        exc)


def _short(text: str, limit: int = 40) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
