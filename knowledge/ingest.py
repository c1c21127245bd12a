"""Ingesting documents into the knowledge store: chunk, diff against what is stored, write.

The JSON file is the source of truth: after `ingest_documents` the collection holds exactly
the rows of the given documents. Row ids are `<doc id>#<n>` (chunk n) and `<doc id>#title`
(the title view, see `document_chunks`), so re-ingesting the same
file changes nothing (unchanged chunks, recognised by a content hash, are not re-embedded),
and chunks of removed documents (or beyond a shortened document's new end) are deleted.
Touches only the store it is given and the file it is asked to read.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from knowledge.chunking import DEFAULT_MAX_CHARS, DEFAULT_OVERLAP_CHARS, chunk_text
from knowledge.documents import Document, load_documents
from knowledge.store import EMBEDDED_KEY, KnowledgeStore, ProgressCallback, StoredChunk

DEFAULT_BATCH_SIZE = 32
#: A sentence end, not after "Dr." and the like.
_SENTENCE = re.compile(
    r"(?<!\bDr\.)(?<!\bMr\.)(?<!\bMs\.)(?<!\bMrs\.)(?<!\bSt\.)(?<=[.!?])\s+(?=[A-Z0-9])"
)
_LIST = re.compile(r": [^:]+(, |; )[^:]+(, |; )")
_MIN_ITEMS = 4  # list items before a sentence is embedded item by item


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did; counts are of stored rows (chunks plus one title view per doc)."""

    documents: int
    rows: int
    added: int
    updated: int
    unchanged: int
    removed: int

    def summary(self) -> str:
        return (
            f"{self.documents} documents, {self.rows} rows: {self.added} added, "
            f"{self.updated} updated, {self.unchanged} unchanged, {self.removed} removed"
        )


def chunk_id(doc_id: str, index: int | str) -> str:
    """The id of row `index` (a chunk number, or `title`) of document `doc_id`."""
    return f"{doc_id}#{index}"


def _row(
    doc: Document, row_id: str, index: int, text: str, embedded: str, view: str
) -> StoredChunk:
    digest = hashlib.sha256(f"{embedded}\x00{text}".encode()).hexdigest()
    metadata = {
        "doc_id": doc.id,
        "title": doc.title,
        "chunk": index,
        "view": view,
        "tags": ",".join(doc.tags),
        EMBEDDED_KEY: embedded,
        "sha256": digest[:32],
    }
    return StoredChunk(row_id, text, metadata)


def document_chunks(
    doc: Document, max_chars: int = DEFAULT_MAX_CHARS, overlap_chars: int = DEFAULT_OVERLAP_CHARS
) -> list[StoredChunk]:
    """The rows stored for `doc`: one per chunk, plus a title view.

    Chunk rows embed the title, a newline and the text. The title view embeds
    "title (tags)" and returns the first chunk: short questions ("is parking free?") match
    a topic far better than a paragraph, which lowers related distances and lets
    `max_distance` stay tight. Topic views (`topic_views`) embed "title: sentence" (or one
    item of a long list) and return the chunk that holds it.
    """
    texts = chunk_text(doc.text, max_chars, overlap_chars)
    rows = [
        _row(doc, chunk_id(doc.id, i), i, text, f"{doc.title}\n{text}", "chunk")
        for i, text in enumerate(texts)
    ]
    topic = f"{doc.title} ({', '.join(doc.tags)})" if doc.tags else doc.title
    rows.append(_row(doc, chunk_id(doc.id, "title"), 0, texts[0], topic, "title"))
    for n, (index, view) in enumerate(topic_views(texts)):
        rows.append(_row(doc, chunk_id(doc.id, f"t{n}"), index, texts[index],
                         f"{doc.title}: {view}", "topic"))
    return rows


def topic_views(chunks: Sequence[str]) -> list[tuple[int, str]]:
    """(chunk index, text) of each topic inside the chunks: every sentence of a chunk that
    has several, and every item of a long list ("We offer ...: a, b, c, d"), so one detail
    buried in a long entry (the sports mouthguards in the services, the membership plan in
    the payment options) is embedded on its own and found. A one-sentence chunk has none
    (its chunk row already is that sentence)."""
    views: list[tuple[int, str]] = []
    for index, chunk in enumerate(chunks):
        parts = [p.strip() for p in _SENTENCE.split(chunk) if p.strip()]
        if len(parts) < 2 and not any(_LIST.search(p) for p in parts):
            continue
        for part in parts:
            head, colon, rest = part.partition(": ")
            pieces = re.split(r"; |, (?:and )?| and ", rest) if colon else []
            items = [i.strip(" .") for i in pieces if len(i.strip(" .")) > 2]
            if len(items) >= _MIN_ITEMS:
                views += [(index, f"{head}: {item}") for item in items]
            else:
                views.append((index, part))
    return views


def ingest_documents(
    documents: Sequence[Document],
    store: KnowledgeStore,
    *,
    progress: ProgressCallback | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    max_chars: int = DEFAULT_MAX_CHARS,
    overlap_chars: int = DEFAULT_OVERLAP_CHARS,
) -> IngestReport:
    """Make the collection hold exactly the chunks of `documents`.

    `progress(done, total)` is called after each batch of rows is embedded and written
    (total = rows that needed embedding; called once with (0, 0) when none did).
    """
    wanted = [c for doc in documents for c in document_chunks(doc, max_chars, overlap_chars)]
    stored = {c.id: c.metadata.get("sha256") for c in store.stored()}
    wanted_ids = {c.id for c in wanted}
    removed = [chunk_id_ for chunk_id_ in stored if chunk_id_ not in wanted_ids]
    to_write = [c for c in wanted if stored.get(c.id) != c.metadata["sha256"]]
    added = sum(1 for c in to_write if c.id not in stored)

    store.delete(removed)
    batch_size = max(1, batch_size)
    for start in range(0, len(to_write), batch_size):
        store.upsert(to_write[start : start + batch_size])
        if progress:
            progress(min(start + batch_size, len(to_write)), len(to_write))
    if progress and not to_write:
        progress(0, 0)
    return IngestReport(
        documents=len(documents),
        rows=len(wanted),
        added=added,
        updated=len(to_write) - added,
        unchanged=len(wanted) - len(to_write),
        removed=len(removed),
    )


def ingest_file(
    path: str | Path,
    store: KnowledgeStore,
    *,
    progress: ProgressCallback | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
) -> IngestReport:
    """Load and validate the knowledge JSON at `path` (DocumentError if invalid), then ingest."""
    return ingest_documents(load_documents(path), store, progress=progress, batch_size=batch_size)
