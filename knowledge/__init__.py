"""Retrieval of business facts (hours, prices, policies) for the agent's prompts.

Modules: `config` (`KnowledgeConfig`, built from the `settings.knowledge` section whose
schema is `flows.settings_knowledge`), `documents` (the knowledge JSON), `chunking`,
`embeddings` (the `Embedder` port and `make_embedder`, which asks the one provider chooser,
`engine.providers`; the embedders are adapters: `adapters.local.embeddings`,
`adapters.openai.embeddings`), `chroma_ef` (the ChromaDB embedding-function adapter),
`store` (the ChromaDB collection; with `chroma_ef`, chromadb's adapter), `ingest` (JSON to
collection), `retrieval` (`Retriever`, `Hit`, `format_for_prompt`), `cli` (`kb` commands)
and `errors` (everything raised derives from `KnowledgeError`).
Importing this package imports nothing; `config`, `documents`, `chunking`, `embeddings` and
`errors` never import chromadb, so the flows linter can use `config` cheaply.
"""
