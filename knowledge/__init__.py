"""Retrieval of business facts (hours, prices, policies) for the agent's prompts.

Modules: `config` (the `settings.knowledge` section), `documents` (the knowledge JSON),
`chunking`, `embeddings` (embedder interface, local MiniLM, factory), `chroma_ef` (the
ChromaDB embedding-function adapter), `store` (the ChromaDB collection), `ingest` (JSON to
collection), `retrieval` (`Retriever`, `Hit`, `format_for_prompt`), `cli` (`kb` commands)
and `errors` (everything raised derives from `KnowledgeError`).
Importing this package imports nothing; `config`, `documents`, `chunking`, `embeddings` and
`errors` never import chromadb, so the flows linter can use `config` cheaply.
"""
