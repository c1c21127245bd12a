"""Retrieval quality on the shipped knowledge base, the distance threshold, and `asearch`."""

from __future__ import annotations

import asyncio
import math
import threading
from collections.abc import Sequence

import numpy as np
import pytest

from adapters.local.embeddings import LOCAL_MAX_DISTANCE, LocalMiniLMEmbedder
from knowledge.documents import Document
from knowledge.embeddings import Embedder
from knowledge.ingest import ingest_documents
from knowledge.retrieval import Hit, Retriever, format_for_prompt

# Worded unlike the entries; written before the threshold was chosen (see retrieval.py).
PARAPHRASES = [
    ("When do you close on Saturdays?", "hours"),
    ("Is the clinic open on Memorial Day?", "holidays"),
    ("What's the best place to park when I visit?", "parking"),
    ("What is the cost of a root canal on a back tooth?", "prices"),
    ("Which insurance companies do you work with?", "insurance"),
    ("What's the penalty for cancelling late?", "cancellation"),
    ("I have a terrible toothache and my face is swelling up", "emergencies"),
    ("Is your office accessible for people with disabilities?", "accessibility"),
    ("Do you see kids?", "kids"),
    ("What do I need to bring along to my appointment?", "what-to-bring"),
]

UNRELATED = [
    "What's the capital of France?",
    "How do I bake sourdough bread?",
    "Who won the World Cup in 2018?",
    "How tall is Mount Everest?",
    "Can you tell me a joke?",
]


def test_paraphrased_questions_find_the_right_entry(shipped_retriever: Retriever) -> None:
    misses = []
    for question, expected in PARAPHRASES:
        hits = shipped_retriever.search(question)
        if expected not in [h.doc_id for h in hits]:
            misses.append((question, expected, [(h.doc_id, round(h.distance, 3)) for h in hits]))
    print("misses:", misses)
    assert len(PARAPHRASES) - len(misses) >= 9, misses


def test_unrelated_questions_get_no_hits(shipped_retriever: Retriever) -> None:
    for question in UNRELATED:
        nearest = shipped_retriever.search(question, 1, max_distance=math.inf)
        assert nearest and nearest[0].distance > LOCAL_MAX_DISTANCE, (question, nearest)
        assert shipped_retriever.search(question) == [], question


def test_hits_are_typed_sorted_and_limited(shipped_retriever: Retriever) -> None:
    hits = shipped_retriever.search("Do you take Delta Dental insurance?", 3)
    assert 1 <= len(hits) <= 3
    assert all(isinstance(h, Hit) for h in hits)
    assert hits[0].doc_id == "insurance"
    assert hits[0].title == "Insurance accepted"
    assert "Delta Dental" in hits[0].text
    assert [h.distance for h in hits] == sorted(h.distance for h in hits)
    assert all(0 <= h.distance <= shipped_retriever.max_distance for h in hits)
    assert len(shipped_retriever.search("Do you take Delta Dental insurance?", 1)) == 1


def test_a_chunk_is_returned_once_even_when_its_title_view_also_matches(
    shipped_retriever: Retriever,
) -> None:
    hits = shipped_retriever.search("parking", 5, max_distance=math.inf)
    assert len(hits) == 5
    assert len({h.chunk_id for h in hits}) == 5
    assert hits[0].chunk_id == "parking#0"


def test_blank_question_returns_nothing(shipped_retriever: Retriever) -> None:
    assert shipped_retriever.search("   \n ") == []


def test_configured_max_distance_wins_over_the_model_default(
    shipped_retriever: Retriever,
) -> None:
    assert shipped_retriever.max_distance == LOCAL_MAX_DISTANCE
    assert shipped_retriever.search("Where can I park?", max_distance=0.01) == []


class _GatedEmbedder(Embedder):
    """Blocks in `embed` until the test releases it; records the embedding thread."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.release = threading.Event()
        self.threads: list[int] = []

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.threads.append(threading.get_ident())
        if not self.release.wait(timeout=60):
            raise RuntimeError("embed was never released: the event loop was blocked")
        return self.inner.embed(texts)


def test_asearch_runs_off_the_event_loop(make_store, local_embedder: LocalMiniLMEmbedder) -> None:
    gated = _GatedEmbedder(local_embedder)
    store = make_store(gated)
    gated.release.set()
    docs = [Document("parking", "Parking", "Free parking behind the building.", ("parking",))]
    ingest_documents(docs, store)
    gated.release.clear()
    gated.threads.clear()
    retriever = Retriever(store.config, store=store)

    async def scenario() -> list[Hit]:
        task = asyncio.create_task(retriever.asearch("Where can I park my car?"))
        while not gated.threads:  # the loop keeps running while search waits in its thread
            await asyncio.sleep(0)
        gated.release.set()
        return await task

    loop_thread = threading.get_ident()
    hits = asyncio.run(scenario())
    assert [h.doc_id for h in hits] == ["parking"]
    assert gated.threads and gated.threads[0] != loop_thread


def test_format_for_prompt_lists_hits_and_is_empty_without_them() -> None:
    assert format_for_prompt([]) == ""
    hits = [
        Hit("hours", "Opening hours", "Open Monday 8-5.", 0.2, "hours#0"),
        Hit("parking", "Parking", "Free lot behind the building.", 0.4, "parking#0"),
    ]
    block = format_for_prompt(hits)
    lines = block.splitlines()
    assert lines[1] == "- Opening hours: Open Monday 8-5."
    assert lines[2] == "- Parking: Free lot behind the building."
    assert "knowledge base" in lines[0]


def test_format_for_prompt_respects_max_chars() -> None:
    hits = [Hit(f"d{i}", f"T{i}", "x" * 300, 0.1 * i, f"d{i}#0") for i in range(5)]
    block = format_for_prompt(hits, header="H:", max_chars=700)
    assert len(block) <= 700
    assert block.count("\n- ") == 2
    single = format_for_prompt(hits[:1], header="H:", max_chars=100)
    assert len(single) <= 100 and single.endswith("…")


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("What time do you open on Saturday?", "Saturday 9:00 am to 1:00 pm"),
        ("How much is the fee if I miss my appointment?", "$50"),
        ("What's your phone number?", "+1 555 010 0100"),
    ],
)
def test_prompt_block_carries_the_fact(
    shipped_retriever: Retriever, question: str, fact: str
) -> None:
    assert fact in format_for_prompt(shipped_retriever.search(question))
