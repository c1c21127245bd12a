"""One dialflow process using the knowledge base on a Chroma server (for the tests' subprocesses).

    python kb_worker.py PORT COLLECTION REINDEX(0|1) MODEL(local|shuffled)

Reads commands from stdin, one per line, and answers each with one JSON line on stdout:
`ingest` (the test documents), `search QUESTION` (doc ids, nearest first, and the model the
collection records), `quit`. Errors come back as {"error": class name, "message": ...}.
`shuffled` is MiniLM with its vector components permuted: the same dimension, incompatible
vectors, another model name — what a real model change looks like to the store.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from adapters.local.embeddings import LocalMiniLMEmbedder  # noqa: E402
from knowledge.config import KnowledgeConfig  # noqa: E402
from knowledge.documents import Document  # noqa: E402
from knowledge.embeddings import Embedder  # noqa: E402
from knowledge.ingest import ingest_documents  # noqa: E402
from knowledge.retrieval import Retriever  # noqa: E402
from knowledge.store import MODEL_KEY, KnowledgeStore  # noqa: E402

DOCS = [
    Document("parking", "Parking", "Free parking in the lot behind the building."),
    Document("hours", "Opening hours", "Open Monday to Friday from 8 am to 5 pm."),
    Document("insurance", "Insurance", "We accept Delta Dental, Cigna and Aetna plans."),
]


class ShuffledMiniLM(Embedder):
    def __init__(self) -> None:
        self.inner = LocalMiniLMEmbedder()
        self.order = np.random.default_rng(7).permutation(self.inner.dimension)

    @property
    def name(self) -> str:
        return "test:shuffled-minilm"

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.inner.embed(texts)[:, self.order]


def answer(retriever: Retriever, line: str) -> dict:
    command, _, rest = line.partition(" ")
    if command == "ingest":
        report = ingest_documents(DOCS, retriever.store)
        return {"added": report.added, "unchanged": report.unchanged}
    if command == "search":
        hits = retriever.search(rest)
        meta = retriever.store.collection().metadata or {}
        return {"hits": [h.doc_id for h in hits], "model": meta.get(MODEL_KEY)}
    raise ValueError(f"unknown command {command!r}")


def main(port: str, collection: str, reindex: str, model: str) -> None:
    config = KnowledgeConfig(host="127.0.0.1", port=int(port), collection=collection,
                             reindex_on_mismatch=reindex == "1", embeddings="local")
    embedder = ShuffledMiniLM() if model == "shuffled" else LocalMiniLMEmbedder()
    retriever = Retriever(config, store=KnowledgeStore(config, embedder))
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        line = line.strip()
        if line == "quit":
            return
        try:
            reply = answer(retriever, line)
        except Exception as exc:
            reply = {"error": type(exc).__name__, "message": str(exc)}
        print(json.dumps(reply), flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:5])
