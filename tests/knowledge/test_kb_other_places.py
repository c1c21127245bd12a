"""Issue 15 (stop 10): questions the knowledge base cannot answer although they share its
words (another place's opening hours), a "where" question with no topic word, and everyday
words for the entries' own ("zip", "swollen")."""

from __future__ import annotations

import pytest

from adapters.local.brain.answers import find_answer
from knowledge.lexical import content_stems
from knowledge.retrieval import Retriever


@pytest.mark.parametrize(
    "question",
    ["What time does the post office close?", "What time does the bank open?",
     "Is the pharmacy downstairs open on Sundays?"],
)
def test_another_places_hours_are_not_answered(shipped_retriever: Retriever,
                                               question: str) -> None:
    assert find_answer(shipped_retriever, question) is None


@pytest.mark.parametrize(
    ("question", "doc_id"),
    [("What time does the office close on Friday?", "hours"),
     ("Where exactly are you?", "address"),
     ("Where are you guys?", "address")],
)
def test_our_own_hours_and_where_are_answered(shipped_retriever: Retriever, question: str,
                                              doc_id: str) -> None:
    hit = find_answer(shipped_retriever, question)
    assert hit is not None and hit.doc_id == doc_id


def test_everyday_words_map_to_the_entries_words() -> None:
    assert content_stems("zip code") == ["addre", "code"]
    assert content_stems("my face is swollen") == ["face", "swell"]


@pytest.mark.parametrize(
    ("question", "doc_id"),
    [("Can you pull a tooth?", "services"),
     ("How long is a normal checkup?", "cleanings"),
     ("Does my child's MassHealth work at your office?", "insurance")],
)
def test_everyday_words_find_their_entries(shipped_retriever: Retriever, question: str,
                                           doc_id: str) -> None:
    hit = find_answer(shipped_retriever, question)
    assert hit is not None and hit.doc_id == doc_id


@pytest.mark.parametrize(
    "question",
    ["What did I pay at my last visit?", "What's the weather going to be like tomorrow?",
     "Could I work for you as a hygienist?"],
)
def test_own_payments_weather_and_jobs_are_refused(shipped_retriever: Retriever,
                                                  question: str) -> None:
    assert find_answer(shipped_retriever, question) is None
