"""`KnowledgeStore`: the ChromaDB collection holding the knowledge chunks and their vectors.

Embedded (PersistentClient at `config.path`, default data/chroma) or a Chroma server
(`config.host`/`port` -> HttpClient); telemetry is off and our embedding function is always
passed, so chroma never downloads or phones home. The collection's metadata records the
embedding model (`dialflow_embedding_model`) and dimension; opening it with another model
re-embeds every stored chunk (into a side collection, swapped in when complete) when
`reindex_on_mismatch` is true, and raises `ModelMismatchError` otherwise.
Vectors are compared by cosine distance (0 = same direction, 2 = opposite).
A deployment can name the server with `DIALFLOW_CHROMA_HOST`/`_PORT` (`server_from_env`).
Touches only the chroma directory or the configured Chroma server.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import chromadb
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings
from chromadb.errors import NotFoundError

from engine.environment import DIALFLOW_CHROMA_HOST, DIALFLOW_CHROMA_PORT
from knowledge.chroma_ef import DialflowEmbeddingFunction
from knowledge.config import KnowledgeConfig
from knowledge.embeddings import Embedder
from knowledge.errors import KnowledgeError, ModelMismatchError

log = logging.getLogger(__name__)

MODEL_KEY = "dialflow_embedding_model"
DIMENSION_KEY = "dialflow_embedding_dimension"
_REINDEX_SUFFIX = "-reindexing"
_PAGE = 256

#: (done, total) after each batch of chunks is embedded.
ProgressCallback = Callable[[int, int], None]


EMBEDDED_KEY = "embedded"


@dataclass(frozen=True)
class StoredChunk:
    """One row of the collection: id, the text a hit returns, and metadata.

    `metadata["embedded"]` (when present) is the text that was embedded for this row, so the
    store can re-embed it with another model without knowing how it was built.
    """

    id: str
    text: str
    metadata: dict[str, Any]

    @property
    def embedded_text(self) -> str:
        return str(self.metadata.get(EMBEDDED_KEY) or self.text)


@dataclass(frozen=True)
class QueryRow:
    """One query result: the stored chunk and its cosine distance to the query."""

    chunk: StoredChunk
    distance: float


CHROMA_HOST_ENV, CHROMA_PORT_ENV = DIALFLOW_CHROMA_HOST, DIALFLOW_CHROMA_PORT


def server_from_env(config: KnowledgeConfig, env: Mapping[str, str]) -> KnowledgeConfig:
    """`config` pointed at the Chroma server named by `DIALFLOW_CHROMA_HOST` (and
    `DIALFLOW_CHROMA_PORT`) when set: a deployment chooses the server, the flow the rest."""
    host = env.get(CHROMA_HOST_ENV, "").strip()
    if not host:
        return config
    port_text = env.get(CHROMA_PORT_ENV, "").strip() or str(config.port)
    if not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise KnowledgeError(f"{CHROMA_PORT_ENV} must be a port number, got {port_text!r:.20}")
    return dataclasses.replace(config, host=host, port=int(port_text))


def make_client(config: KnowledgeConfig) -> ClientAPI:
    """A chroma client for `config`: HttpClient when `host` is set, else PersistentClient."""
    settings = Settings(anonymized_telemetry=False)
    try:
        if config.host:
            return chromadb.HttpClient(host=config.host, port=config.port, settings=settings)
        Path(config.path).mkdir(parents=True, exist_ok=True)
        return chromadb.PersistentClient(path=config.path, settings=settings)
    except Exception as exc:
        raise KnowledgeError(
            f"cannot open the knowledge store at {config.describe_location()}: {exc}"
        ) from exc


class KnowledgeStore:
    """The knowledge collection for one embedder. Thread-safe; opens lazily."""

    def __init__(
        self, config: KnowledgeConfig, embedder: Embedder, client: ClientAPI | None = None
    ) -> None:
        self.config = config
        self.embedder = embedder
        self._client = client
        self._ef = DialflowEmbeddingFunction(embedder)
        self._collection: Collection | None = None
        self._lock = threading.RLock()

    # --- opening ----------------------------------------------------------------------

    @property
    def client(self) -> ClientAPI:
        with self._lock:
            if self._client is None:
                self._client = make_client(self.config)
            return self._client

    def _metadata(self) -> dict[str, Any]:
        return {MODEL_KEY: self.embedder.name, DIMENSION_KEY: self.embedder.dimension}

    def _create(self, name: str) -> Collection:
        return self.client.create_collection(
            name,
            embedding_function=self._ef,
            configuration={"hnsw": {"space": "cosine"}},
            metadata=self._metadata(),
        )

    @contextlib.contextmanager
    def _failures(self, action: str) -> Iterator[None]:
        """Re-raise chroma's own exceptions as `KnowledgeError` naming the store."""
        try:
            yield
        except KnowledgeError:
            raise
        except Exception as exc:
            where = self.config.describe_location()
            raise KnowledgeError(f"knowledge store {where}: {action} failed: {exc}") from exc

    def collection(self, progress: ProgressCallback | None = None) -> Collection:
        """The open collection, created if missing, re-indexed (or refused) on model mismatch."""
        with self._lock, self._failures("opening the collection"):
            if self._collection is None:
                self._collection = self._open(progress)
            return self._collection

    def _open(self, progress: ProgressCallback | None) -> Collection:
        name = self.config.collection
        try:
            collection = self.client.get_collection(name, embedding_function=self._ef)
        except NotFoundError:
            return self._create(name)
        except ValueError as exc:
            raise KnowledgeError(
                f"collection {self.config.describe_location()} was not created by dialflow "
                f"({exc}); choose another settings.knowledge.collection"
            ) from exc
        meta = collection.metadata or {}
        stored_model, stored_dim = meta.get(MODEL_KEY), meta.get(DIMENSION_KEY)
        if stored_model == self.embedder.name and stored_dim == self.embedder.dimension:
            return collection
        if collection.count() == 0:
            self.client.delete_collection(name)
            return self._create(name)
        if not self.config.reindex_on_mismatch:
            raise ModelMismatchError(
                f"knowledge collection {self.config.describe_location()} was indexed with "
                f"embedding model {stored_model or 'unknown'!r} (dimension {stored_dim}), but "
                f"the configured model is {self.embedder.name!r} (dimension "
                f"{self.embedder.dimension}). Fix: rebuild it with `dialflow kb ingest --rebuild`, "
                "or set settings.knowledge.reindex_on_mismatch: true, or go back to the model it "
                "was built with (settings.knowledge.embeddings / OPENAI_API_KEY)."
            )
        log.warning(
            "knowledge collection %s was indexed with %r; re-indexing with %r",
            self.config.describe_location(),
            stored_model,
            self.embedder.name,
        )
        return self._reindex(collection, progress)

    def _reindex(self, old: Collection, progress: ProgressCallback | None) -> Collection:
        name = self.config.collection
        side = name[: 512 - len(_REINDEX_SUFFIX)] + _REINDEX_SUFFIX
        with contextlib.suppress(NotFoundError):
            self.client.delete_collection(side)
        fresh = self._create(side)
        rows = list(_iter_rows(old))
        for start in range(0, len(rows), _PAGE):
            self._add(fresh, rows[start : start + _PAGE])
            if progress:
                progress(min(start + _PAGE, len(rows)), len(rows))
        self.client.delete_collection(name)
        fresh.modify(name=name)
        return self.client.get_collection(name, embedding_function=self._ef)

    # --- reading and writing ------------------------------------------------------------

    def count(self) -> int:
        collection = self.collection()
        with self._failures("counting"):
            return collection.count()

    def stored(self) -> list[StoredChunk]:
        """Every chunk in the collection."""
        collection = self.collection()
        with self._failures("reading"):
            return list(_iter_rows(collection))

    def upsert(self, chunks: Sequence[StoredChunk]) -> None:
        """Embed and write `chunks`, replacing any with the same ids."""
        if chunks:
            collection = self.collection()
            with self._failures("writing"):
                self._add(collection, chunks, upsert=True)

    def _add(
        self, collection: Collection, chunks: Sequence[StoredChunk], upsert: bool = False
    ) -> None:
        vectors = self.embedder.embed([c.embedded_text for c in chunks])
        write = collection.upsert if upsert else collection.add
        write(
            ids=[c.id for c in chunks],
            documents=[c.text for c in chunks],
            metadatas=[c.metadata for c in chunks],
            embeddings=vectors,
        )

    def delete(self, ids: Sequence[str]) -> None:
        collection = self.collection()
        with self._failures("deleting"):
            for start in range(0, len(ids), _PAGE):
                collection.delete(ids=list(ids[start : start + _PAGE]))

    def query(self, text: str, n_results: int) -> list[QueryRow]:
        """The `n_results` chunks nearest to `text`, nearest first."""
        if n_results < 1:
            return []
        vector = np.asarray(self.embedder.embed([text]))
        try:
            result = self._query(vector, n_results)
        except NotFoundError:
            # Another process (e.g. `kb ingest` re-indexing) replaced the collection.
            with self._lock:
                self._collection = None
            result = self._query(vector, n_results)
        if result is None:
            return []
        rows = []
        for chunk_id, doc, meta, dist in zip(
            result["ids"][0],
            (result["documents"] or [[]])[0],
            (result["metadatas"] or [[]])[0],
            (result["distances"] or [[]])[0],
            strict=True,
        ):
            rows.append(QueryRow(StoredChunk(chunk_id, doc or "", dict(meta or {})), float(dist)))
        return rows

    def _query(self, vector: np.ndarray, n_results: int) -> Any:
        collection = self.collection()
        available = collection.count()
        if available == 0:
            return None
        return collection.query(
            query_embeddings=vector,
            n_results=min(n_results, available),
            include=["documents", "metadatas", "distances"],
        )

    def drop(self) -> None:
        """Delete the collection (the next use recreates it empty)."""
        with self._lock, self._failures("dropping the collection"):
            with contextlib.suppress(NotFoundError):
                self.client.delete_collection(self.config.collection)
            self._collection = None


def _iter_rows(collection: Collection) -> Iterator[StoredChunk]:
    offset = 0
    while True:
        page = collection.get(include=["documents", "metadatas"], limit=_PAGE, offset=offset)
        ids = page["ids"]
        if not ids:
            return
        docs = page["documents"] or [""] * len(ids)
        metas = page["metadatas"] or [{}] * len(ids)
        for chunk_id, doc, meta in zip(ids, docs, metas, strict=True):
            yield StoredChunk(chunk_id, doc or "", dict(meta or {}))
        offset += len(ids)
