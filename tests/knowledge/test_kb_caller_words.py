"""Issue 15, retrieval, the classes behind the misses of paraphrase split h8 (tune since
split h9 was run): a caller's everyday word or phrase for the one an entry uses ("inbox" for
email, "can't hear" for sign language, a language by name), everyday verbs, numbers and
people that say nothing of a topic ("eleven", "somebody", "husband"), and questions about
the caller's own account ("did my insurance pay for it?") that no entry can answer. None of
these questions is h8's own.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from knowledge.lexical import content_stems
from knowledge.retrieval import Retriever

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(("said", "means"), [
    ("what inbox do I write to", "email"),
    ("my dad can't hear well", "sign"),
    ("is a service dog allowed", "anima"),
    ("do I need a face mask", "mask"),
    ("can someone translate into Korean", "langu"),
    ("the clear trays", "align"),
    ("my tooth throbs", "pain"),
])
def test_a_callers_word_is_the_entrys_word(said, means) -> None:
    assert means in content_stems(said)


def test_everyday_verbs_numbers_and_people_are_no_topic() -> None:
    assert content_stems("Can somebody see my husband around eleven today?") == []


@pytest.mark.parametrize(("question", "doc_id"), [
    ("can my service dog come in with me", "accessibility"),
    ("is there anyone who speaks Cantonese", "languages"),
    ("what inbox should I send my forms to", "contact"),
])
def test_everyday_words_find_the_entry(shipped_retriever: Retriever, question, doc_id) -> None:
    sys.path.insert(0, str(ROOT))
    from adapters.local.brain.answers import find_answer

    hit = find_answer(shipped_retriever, question)
    assert hit is not None and hit.doc_id == doc_id


@pytest.mark.parametrize("question", [
    "has our insurance paid for the filling yet",
    "what is still outstanding on my son's visit",
])
def test_the_callers_own_account_is_refused(question) -> None:
    sys.path.insert(0, str(ROOT))
    from adapters.local.brain.answers import about_own_records

    assert about_own_records(question)


def test_coverage_is_the_same_in_every_process() -> None:
    """A share summed over a set depended on the process's string hashing: 0.5 in some runs,
    0.4999... in others, which flipped a refusal (the tune split's figure moved by one)."""
    import subprocess

    script = (
        "import json, sys; sys.path.insert(0, '.'); "
        "from knowledge.lexical import LexicalIndex; "
        "d = json.load(open('data/knowledge.json')); "
        "i = LexicalIndex.from_texts({e['id']: [e['title'], ' '.join(e['tags']), e['text']] "
        "for e in d}); "
        "print(repr(i.coverage(\"what's involved in a six monthly visit\", 'cleanings')))")
    seen = {subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True, text=True,
                           capture_output=True, env={"PYTHONHASHSEED": str(seed)}).stdout
            for seed in range(8)}
    assert len(seen) == 1, seen
