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
costs more on a call than an extra one the model ignores. OpenAI's text-embedding-3-small
gets 0.65 too, an estimate not measured here (no network): check it with `dialflow kb search`.
Touches the knowledge store (chroma) and the embedder, nothing else.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from knowledge.config import KnowledgeConfig
from knowledge.embeddings import Embedder, make_embedder
from knowledge.errors import KnowledgeError
from knowledge.ingest import IngestReport, chunk_id, ingest_file
from knowledge.store import KnowledgeStore, ProgressCallback

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
    distance: float
    chunk_id: str = ""


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
            rows = self.store.query(question, 2 * k)
        except KnowledgeError:
            raise
        except Exception as exc:
            raise KnowledgeError(f"knowledge search failed: {exc}") from exc
        hits: list[Hit] = []
        seen: set[str] = set()
        # A chunk can come back twice (its own row and its document's title view).
        for row in rows:
            if row.distance > limit or len(hits) == k:
                break
            meta = row.chunk.metadata
            doc_id = str(meta.get("doc_id", row.chunk.id))
            key = chunk_id(doc_id, int(meta.get("chunk", 0)))
            if key in seen:
                continue
            seen.add(key)
            hits.append(
                Hit(
                    doc_id=doc_id,
                    title=str(meta.get("title", "")),
                    text=row.chunk.text,
                    distance=row.distance,
                    chunk_id=key,
                )
            )
        return hits

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
