"""OpenAI adapters: the only place the `openai` SDK is imported.

`embeddings` implements `knowledge.embeddings.Embedder`; `brain.OpenAIBrain` is the
engine's `Brain` over any OpenAI-compatible chat-completions server (`brain_messages`
builds its messages). The API key always comes from the caller (read from the
environment); it is never logged or stored.
"""
