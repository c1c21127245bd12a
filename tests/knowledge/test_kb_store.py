"""The chroma store: idempotent ingest, removals, and embedding-model mismatches."""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import pytest

from adapters.local.embeddings import LocalMiniLMEmbedder
from knowledge.config import KnowledgeConfig
from knowledge.documents import Document
from knowledge.embeddings import Embedder
from knowledge.errors import ModelMismatchError
from knowledge.ingest import ingest_documents
from knowledge.retrieval import Retriever
from knowledge.store import DIMENSION_KEY, MODEL_KEY

DOCS = [
    Document("hours", "Opening hours", "We are open Monday to Friday from 8 to 5.", ("hours",)),
    Document("parking", "Parking", "Free parking in the lot behind the building.", ("car",)),
    Document("pets", "Pets", "Service animals are welcome; other pets must stay outside."),
]


class CountingEmbedder(Embedder):
    """Wraps an embedder, counting the texts it embeds; can pose as another model."""

    def __init__(self, inner: Embedder, name: str | None = None) -> None:
        self.inner = inner
        self._name = name or inner.name
        self.embedded: list[str] = []

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded += list(texts)
        return self.inner.embed(texts)


def _ids(store) -> set[str]:
    return {row.id for row in store.stored()}


def test_reingest_is_idempotent_and_embeds_nothing_new(make_store, local_embedder) -> None:
    counting = CountingEmbedder(local_embedder)
    store = make_store(counting)
    calls: list[tuple[int, int]] = []
    first = ingest_documents(DOCS, store, progress=lambda d, t: calls.append((d, t)))
    assert (first.documents, first.rows, first.added, first.removed) == (3, 6, 6, 0)
    assert calls[-1] == (6, 6)
    before = {row.id: (row.text, row.metadata) for row in store.stored()}
    counting.embedded.clear()

    again = ingest_documents(DOCS, store)
    assert (again.added, again.updated, again.unchanged, again.removed) == (0, 0, 6, 0)
    assert counting.embedded == []
    assert {row.id: (row.text, row.metadata) for row in store.stored()} == before
    assert _ids(store) == {f"{d}#{i}" for d in ("hours", "parking", "pets") for i in ("0", "title")}


def test_removed_document_chunks_disappear(make_store, local_embedder) -> None:
    store = make_store(local_embedder)
    ingest_documents(DOCS, store)
    report = ingest_documents(DOCS[:2], store)
    assert report.removed == 2
    assert not any(row.metadata["doc_id"] == "pets" for row in store.stored())
    retriever = Retriever(store.config, store=store)
    hits = retriever.search("Can I bring my dog?", 5, max_distance=2.0)
    assert "pets" not in {h.doc_id for h in hits}


def test_changed_and_shortened_documents_are_rewritten(make_store, local_embedder) -> None:
    store = make_store(local_embedder)
    long_text = "\n\n".join(f"Paragraph {i}. " + "Some detail here. " * 25 for i in range(4))
    ingest_documents([Document("long", "Long", long_text)], store)
    assert len(_ids(store)) > 3
    report = ingest_documents([Document("long", "Long", "Now it is short.")], store)
    assert _ids(store) == {"long#0", "long#title"}
    assert report.updated == 2 and report.removed > 0
    assert [r.text for r in store.stored() if r.id == "long#0"] == ["Now it is short."]


def test_collection_records_the_embedding_model(make_store, local_embedder) -> None:
    store = make_store(local_embedder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ingest_documents(DOCS, store)
    meta = store.collection().metadata
    assert meta[MODEL_KEY] == "local:all-MiniLM-L6-v2-onnx-int8"
    assert meta[DIMENSION_KEY] == 384
    chroma_warnings = [w for w in caught if "chroma" in str(w.filename)]
    assert chroma_warnings == [], [str(w.message) for w in chroma_warnings]


def test_model_mismatch_reindexes_by_default(make_store, local_embedder) -> None:
    old = CountingEmbedder(local_embedder, name="local:some-older-model")
    ingest_documents(DOCS, make_store(old))

    new = CountingEmbedder(local_embedder)
    store = make_store(new)
    assert store.count() == 6
    assert len(new.embedded) == 6  # every stored row was re-embedded with the new model
    assert store.collection().metadata[MODEL_KEY] == new.name
    hits = Retriever(store.config, store=store).search("Where do I park?")
    assert hits and hits[0].doc_id == "parking"
    assert [c.name for c in store.client.list_collections()] == ["dialflow"]


def test_model_mismatch_fails_clearly_when_reindex_is_off(make_store, local_embedder) -> None:
    old = CountingEmbedder(local_embedder, name="openai:text-embedding-3-small")
    ingest_documents(DOCS, make_store(old))
    store = make_store(local_embedder, reindex_on_mismatch=False)
    with pytest.raises(ModelMismatchError) as err:
        store.count()
    message = str(err.value)
    assert "openai:text-embedding-3-small" in message
    assert "local:all-MiniLM-L6-v2-onnx-int8" in message
    assert "kb ingest --rebuild" in message and "reindex_on_mismatch" in message
    store.drop()
    assert make_store(local_embedder, reindex_on_mismatch=False).count() == 0


def test_empty_collection_with_another_model_is_simply_recreated(
    make_store, local_embedder: LocalMiniLMEmbedder
) -> None:
    old = CountingEmbedder(local_embedder, name="local:old")
    make_store(old).count()
    store = make_store(local_embedder, reindex_on_mismatch=False)
    assert store.count() == 0
    assert store.collection().metadata[MODEL_KEY] == local_embedder.name


def test_retriever_survives_the_collection_being_replaced(make_store, local_embedder) -> None:
    """Like `kb ingest --rebuild` run by another process while the engine is serving."""
    serving = make_store(local_embedder)
    ingest_documents(DOCS[:1], serving)
    retriever = Retriever(serving.config, store=serving)
    assert retriever.search("When are you open?")[0].doc_id == "hours"

    rebuilder = make_store(local_embedder)
    rebuilder.drop()
    ingest_documents(DOCS[1:2], rebuilder)
    hits = retriever.search("Where can I park?")
    assert [h.doc_id for h in hits] == ["parking"]
    assert retriever.search("When are you open?") == []


def test_warm_up_ingests_the_source_only_when_empty(tmp_path, local_embedder) -> None:
    source = tmp_path / "kb.json"
    source.write_text('[{"id": "pets", "title": "Pets", "text": "Dogs are welcome."}]')
    config = KnowledgeConfig(path=str(tmp_path / "chroma"), source=str(source))
    retriever = Retriever(config, embedder=local_embedder)
    report = retriever.warm_up()
    assert report is not None and report.added == 2
    assert Retriever(config, embedder=local_embedder).warm_up() is None
    assert retriever.search("Can I bring my dog?")[0].doc_id == "pets"
    missing = KnowledgeConfig(path=str(tmp_path / "other"), source=str(tmp_path / "none.json"))
    assert Retriever(missing, embedder=local_embedder).warm_up() is None
