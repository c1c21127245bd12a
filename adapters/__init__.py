"""Adapters to outside services (telephony, speech, LLM and embedding providers).

Provider SDKs are imported only under this package (chromadb: knowledge's store), each in
its own provider's folder; the rest of dialflow talks to the interfaces the adapters
implement. Helpers several adapters share live in no provider's folder: `audio` (the mu-law
codec and resampler), `retry` (backoff with jitter and `Retry-After`), `speech` (prompt
cache, TTS fallback), `llm` (what both LLM brains share). Providers are constructed by the
convention of `engine.providers` (`from_flow(settings, env, **extras)`).
"""
