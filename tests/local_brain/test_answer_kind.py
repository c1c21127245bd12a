"""Issue 15: refusing what the knowledge base does not answer by the kind of fact asked, not
by the question's words. An entry near a question must also hold a fact of the kind asked
(a price, a count of the thing asked, an age, a year, a duration, something more about the
person named, the thing recommended, the action asked for); h6's answered unanswerables
("how old is Dr. Nair?", "how many patients do you see a day?", "do you validate parking?",
"recommend a good pediatrician") were each near an entry that had none.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from adapters.local.brain.answer_kind import asked_kinds, lacks_asked_fact
from adapters.local.brain.answers import find_answer
from knowledge.lexical import content_stems

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = {e["id"]: e["text"] for e in json.loads(
    (ROOT / "data" / "knowledge.json").read_text(encoding="utf-8"))}
VOCABULARY = {s for text in ENTRIES.values() for s in content_stems(text)}


@pytest.mark.parametrize(("question", "entry"), [
    ("how old is dr nair", "team"),
    ("how many patients do you see a day", "new-patients"),
    ("how many patients do you see a day", "payment"),  # "12 months. Patients ..."
    ("what year did dr nair graduate", "team"),
    ("how long has dr chen been practicing", "team"),
    ("does dr alvarez have kids", "languages"),
    ("can you recommend a good pediatrician", "kids"),
    ("do you validate parking for the garage", "parking"),
    ("how much is the membership", "hours"),
])
def test_an_entry_without_the_fact_asked_does_not_answer(question: str, entry: str) -> None:
    assert lacks_asked_fact(question, ENTRIES[entry], VOCABULARY)


@pytest.mark.parametrize(("question", "entry"), [
    ("how many hygienists do you have", "team"),
    ("how many dentists work there", "team"),  # named, not counted
    ("how many appointments does a crown take", "crowns"),  # "two visits"
    ("how many hours a day do I wear the aligners", "invisalign"),
    ("at what age can my baby come in", "kids"),
    ("what year was the practice founded", "team"),
    ("how long does a cleaning take", "cleanings"),
    ("how long between the two crown appointments", "crowns"),
    ("is dr alvarez certified for invisalign", "invisalign"),
    ("what does dr chen do", "team"),
    ("can you recommend an orthodontist", "services"),
    ("do you put sealants on children's teeth", "kids"),
    ("what's the charge for a no show", "cancellation"),
    ("is the invisalign consultation free", "prices"),
    ("how much does the garage charge", "parking"),
])
def test_an_entry_with_the_fact_asked_answers(question: str, entry: str) -> None:
    assert not lacks_asked_fact(question, ENTRIES[entry], VOCABULARY)


def test_the_kinds_asked() -> None:
    assert asked_kinds("How much would a crown cost me?") == ["price"]
    assert asked_kinds("how long is the wait, and how much is it") == ["price", "duration"]
    assert asked_kinds("Do you take Cigna?") == []


@pytest.mark.parametrize("question", [
    "how old is dr nair", "how many patients do you see a day",
    "do you validate parking for the garage", "can you recommend a good pediatrician",
])
def test_h6_unanswerables_are_refused_by_retrieval(retriever, question: str) -> None:
    assert find_answer(retriever, question) is None


@pytest.mark.parametrize(("question", "entry"), [
    ("how many hygienists do you have", "team"),
    ("how long does a cleaning take", "cleanings"),
    ("what do you charge for whitening", "prices"),
])
def test_answerable_questions_of_those_kinds_still_answered(retriever, question: str,
                                                            entry: str) -> None:
    hit = find_answer(retriever, question)
    assert hit is not None and hit.doc_id == entry


def test_an_errand_needs_an_entry_naming_the_thing_fetched() -> None:
    assert lacks_asked_fact("Can you call me a taxi after my appointment?", ENTRIES["booking"])
    assert not lacks_asked_fact("can you get me an interpreter", ENTRIES["languages"])


def test_a_discount_for_a_group_needs_that_group_named() -> None:
    """h7's "do you offer a military discount" was answered from the payment entry, whose
    only discount is the membership plan's "15% off"."""
    assert "discount" in asked_kinds("do you offer a military discount")
    assert lacks_asked_fact("do you offer a military discount", ENTRIES["payment"])
    assert not lacks_asked_fact("is there a discount with the membership plan",
                                ENTRIES["payment"])


def test_a_brand_asked_needs_a_brand_named() -> None:
    """h7's "what brand of implants do you use" was answered from the implants entry."""
    assert lacks_asked_fact("what brand of implants do you use", ENTRIES["implants"])
    assert not lacks_asked_fact("what brand of implants do you use",
                                "We place Straumann brand implants.")


def test_other_businesses_compared_are_not_covered(retriever) -> None:
    """h7's "who is the cheapest dentist in town" got the price list."""
    assert find_answer(retriever, "who is the cheapest dentist in town") is None
    assert find_answer(retriever, "what's the best dentist around here") is None
    assert find_answer(retriever, "how much is a crown") is not None
