"""Issue 15 (stop 11): the refusal rule for weak hits (`answers.unsure`: far, and sharing few
of the question's words or hardly nearer than the next entry), and the classes the knowledge
base cannot answer although it shares their words: the caller's own plan and visits, and
things to buy or rent."""

from __future__ import annotations

import pytest

from adapters.local.brain.answers import find_answer, unsure
from knowledge.retrieval import Hit, Retriever


def _hit(doc: str, distance: float, coverage: float) -> Hit:
    return Hit(doc_id=doc, title=doc, text="", distance=distance, coverage=coverage)


def test_a_near_hit_is_never_unsure() -> None:
    assert not unsure([_hit("hours", 0.30, 0.0), _hit("holidays", 0.301, 0.0)])
    assert not unsure([])


def test_a_far_hit_sharing_few_words_is_unsure() -> None:
    assert unsure([_hit("kids", 0.44, 0.1)])
    assert not unsure([_hit("kids", 0.44, 0.6)])


def test_a_far_hit_no_clearer_than_the_next_entry_is_unsure() -> None:
    assert unsure([_hit("holidays", 0.53, 0.3), _hit("holidays", 0.54, 0.3),
                   _hit("hours", 0.54, 0.2)])
    assert not unsure([_hit("holidays", 0.53, 0.3), _hit("hours", 0.60, 0.2)])  # clear
    assert not unsure([_hit("address", 0.53, 0.7), _hit("parking", 0.54, 0.4)])  # shares words


@pytest.mark.parametrize(
    "question",
    ["When does the library across the street close?", "Do you sell electric toothbrushes?",
     "What's my deductible on my plan?", "When was my last checkup?",
     "Can I rent a room in the building?"],
)
def test_weak_or_uncovered_questions_are_refused(shipped_retriever: Retriever,
                                                 question: str) -> None:
    assert find_answer(shipped_retriever, question) is None


@pytest.mark.parametrize(
    ("question", "doc_id"),
    [("When do you close today?", "hours"), ("Are you near the public library?", "address"),
     ("Do you take Cigna?", "insurance"), ("My son is six, can you see him?", "kids")],
)
def test_weak_but_clear_hits_are_still_answered(shipped_retriever: Retriever, question: str,
                                                doc_id: str) -> None:
    hit = find_answer(shipped_retriever, question)
    assert hit is not None and hit.doc_id == doc_id
