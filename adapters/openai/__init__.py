"""OpenAI adapters: the only place the `openai` SDK is imported.

`embeddings` implements `knowledge.embeddings.Embedder`. The API key always comes from the
caller (read from the environment); it is never logged or stored.
"""
