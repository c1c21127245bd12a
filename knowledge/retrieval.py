"""`Retriever`: the knowledge-base search the engine calls, and `format_for_prompt`.

`search(question)` embeds the question, takes the `top_k` nearest chunks and drops any whose
cosine distance exceeds `max_distance`, so text unrelated to the question never reaches the
prompt. `asearch` runs the same in a worker thread (`asyncio.to_thread`), off the event loop.

The local model's default `max_distance` is 0.65, measured on data/knowledge.json (29
entries, 58 rows) with hand-written caller questions:
  - 80 paraphrased questions: the right entry is nearest for 70 and in the top 3 for 79; its
    distance has median 0.46, 90th percentile 0.64, max 0.69; 76 of 80 are within 0.65.
  - 32 unrelated questions: nearest row at 0.49-0.89 (median 0.80). Only near-topics fall
    within 0.65 (pharmacy closing time 0.49, nearest gas station 0.62, car insurance 0.63);
    "what's the capital of France?" is at 0.67.
0.65 is the highest cut-off that still rejects plainly unrelated questions: a missing fact
costs more on a call than an extra one the model ignores.

Hybrid ranking (issue 15): each row's cosine distance is lowered by `LEXICAL_WEIGHT` times the
IDF-weighted share of the question's content words its document contains (`knowledge.lexical`),
so "what do you charge for whitening?" lands on the price list, not the whitening entry, and
by `TOPIC_WEIGHT` times the share found among its title and tags (the entry's declared topic:
"what floor are you on?" is the address entry's, not the accessibility entry's). Rows
include topic views (one sentence or list item each, see `knowledge.ingest.topic_views`); a
hit's `matched` is the view that matched. The weight was chosen on the `tune` split of
tests/conversations/paraphrases.yaml and is reported on its `heldout` split by
`python -m bench.conversation_bench --retrieval`. OpenAI's text-embedding-3-small
gets 0.65 too, an estimate not measured here (no network): check it with `dialflow kb search`.
Touches the knowledge store (chroma) and the embedder, nothing else.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.config import KnowledgeConfig
from knowledge.embeddings import Embedder, make_embedder
from knowledge.errors import KnowledgeError
from knowledge.ingest import IngestReport, chunk_id, ingest_file
from knowledge.lexical import LexicalIndex
from knowledge.store import EMBEDDED_KEY, KnowledgeStore, ProgressCallback, StoredChunk

__all__ = ["Hit", "KnowledgeConfig", "Retriever", "format_for_prompt"]

log = logging.getLogger(__name__)

PROMPT_HEADER = (
    "Facts from the business's knowledge base (use them only if they answer the caller; "
    "do not invent details they do not state):"
)


@dataclass(frozen=True)
class Hit:
    """One knowledge-base excerpt relevant to a question."""

    doc_id: str
    title: str
    text: str
    distance: float  # the ranking distance: cosine distance less the lexical bonus
    chunk_id: str = ""
    matched: str = ""  # the embedded view that matched (a sentence, an item, the title)
    coverage: float = 0.0  # share of the question's known content words in the document


#: How much a full lexical match lowers a row's cosine distance (chosen on the tune split).
LEXICAL_WEIGHT = 0.2
#: How much more a question word among a row's title and tags lowers it (chosen on tune).
TOPIC_WEIGHT = 0.05
#: Rows fetched from the vector store before hybrid re-ranking and de-duplication.
CANDIDATES = 24


def lexical_index(rows: Sequence[StoredChunk]) -> LexicalIndex:
    """The lexical index of the stored rows, by document: title, tags and chunk texts."""
    texts: dict[str, list[str]] = {}
    topics: dict[str, str] = {}
    for row in rows:
        meta = row.metadata
        doc = str(meta.get("doc_id", row.id))
        parts = texts.setdefault(doc, [str(meta.get("title", "")), str(meta.get("tags", ""))])
        topics.setdefault(doc, f"{parts[0]} {parts[1]}")
        parts.append(row.text)
    return LexicalIndex.from_texts(texts, topics)


class Retriever:
    """Searches the knowledge collection described by a `KnowledgeConfig`. Thread-safe.

    Build it once per process and share it between calls: the model and the chroma client
    are loaded lazily on first use (call `warm_up()` at start-up to pay that cost early).
    """

    def __init__(
        self,
        config: KnowledgeConfig | None = None,
        *,
        embedder: Embedder | None = None,
        store: KnowledgeStore | None = None,
    ) -> None:
        self.config = config or KnowledgeConfig()
        if store is not None:
            self.store = store
        else:
            self.store = KnowledgeStore(self.config, embedder or make_embedder(self.config))
        self.embedder = self.store.embedder
        self._lexical: tuple[int, LexicalIndex] | None = None
        self._lexical_lock = threading.Lock()

    @property
    def lexical(self) -> LexicalIndex:
        """The lexical side of the hybrid search, built from the store's rows (again when
        their number changed, e.g. after an ingest)."""
        count = self.store.count()
        with self._lexical_lock:
            if self._lexical is None or self._lexical[0] != count:
                self._lexical = (count, lexical_index(self.store.stored()))
            return self._lexical[1]

    @classmethod
    def from_settings(
        cls, settings: Mapping[str, Any] | None, *, base_dir: str | Path | None = None
    ) -> Retriever:
        """From the `settings.knowledge` mapping of flows.yaml (None = defaults)."""
        return cls(KnowledgeConfig.from_dict(settings, base_dir=base_dir))

    @property
    def max_distance(self) -> float:
        """The configured cut-off, else the embedding model's calibrated default."""
        if self.config.max_distance is not None:
            return self.config.max_distance
        return self.embedder.default_max_distance

    def warm_up(
        self, *, ingest_if_empty: bool = True, progress: ProgressCallback | None = None
    ) -> IngestReport | None:
        """Load the model and open (or re-index) the collection now.

        With `ingest_if_empty`, an empty collection is filled from `config.source` when that
        file exists; returns the ingest report then, else None.
        """
        self.embedder.embed(["warm up"])
        report = None
        if ingest_if_empty and self.store.count() == 0 and Path(self.config.source).is_file():
            report = ingest_file(self.config.source, self.store, progress=progress)
            log.info("knowledge base ingested from %s: %s", self.config.source, report.summary())
        _ = self.lexical
        return report

    def search(
        self, question: str, top_k: int | None = None, *, max_distance: float | None = None
    ) -> list[Hit]:
        """Up to `top_k` (default `config.top_k`) hits within `max_distance`, nearest first.

        `max_distance=math.inf` returns the nearest chunks however unrelated (for debugging).
        Raises `KnowledgeError` when the store or the embedder fails.
        """
        question = " ".join(question.split())
        if not question:
            return []
        k = self.config.top_k if top_k is None else top_k
        limit = self.max_distance if max_distance is None else max_distance
        try:
            rows = self.store.query(question, max(CANDIDATES, 4 * k))
            lexical = self.lexical
        except KnowledgeError:
            raise
        except Exception as exc:
            raise KnowledgeError(f"knowledge search failed: {exc}") from exc
        best: dict[str, Hit] = {}
        # A chunk comes back several times (its own row, its title view, its topic views):
        # the nearest of them stands for it.
        for row in rows:
            meta = row.chunk.metadata
            doc_id = str(meta.get("doc_id", row.chunk.id))
            key = chunk_id(doc_id, int(meta.get("chunk", 0)))
            coverage = lexical.coverage(question, doc_id)
            distance = max(0.0, row.distance - LEXICAL_WEIGHT * coverage
                           - TOPIC_WEIGHT * lexical.topic_share(question, doc_id))
            if distance > limit or (key in best and best[key].distance <= distance):
                continue
            embedded = str(meta.get(EMBEDDED_KEY, ""))
            title = str(meta.get("title", ""))
            best[key] = Hit(
                doc_id=doc_id, title=title, text=row.chunk.text, distance=distance,
                chunk_id=key, matched=embedded.removeprefix(f"{title}: "), coverage=coverage,
            )
        return sorted(best.values(), key=lambda h: h.distance)[:k]

    async def asearch(
        self, question: str, top_k: int | None = None, *, max_distance: float | None = None
    ) -> list[Hit]:
        """`search` in a worker thread, so the event loop keeps serving audio meanwhile."""
        return await asyncio.to_thread(self.search, question, top_k, max_distance=max_distance)


def format_for_prompt(
    hits: Sequence[Hit], *, header: str = PROMPT_HEADER, max_chars: int = 2000
) -> str:
    """The hits as a block for the system prompt; "" when there are none.

    Excerpts are listed nearest first and stop before the block would exceed `max_chars`
    (the first one is always kept, cut if need be).
    """
    if not hits:
        return ""
    lines = [header]
    used = len(header)
    for hit in hits:
        line = f"- {hit.title}: {hit.text}" if hit.title else f"- {hit.text}"
        if used + 1 + len(line) > max_chars:
            if len(lines) > 1:
                break
            line = line[: max(0, max_chars - used - 2)].rstrip() + "…"
        lines.append(line)
        used += 1 + len(line)
    return "\n".join(lines)
