"""Loading and validating the knowledge JSON, chunking, and the shipped knowledge base."""

from __future__ import annotations

import json
from itertools import pairwise
from pathlib import Path

import pytest

from knowledge.chunking import chunk_text
from knowledge.documents import Document, load_documents
from knowledge.errors import DocumentError
from knowledge.ingest import document_chunks

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "knowledge.json"


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "kb.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_valid_file_loads(tmp_path: Path) -> None:
    path = _write(tmp_path, [{"id": "a", "title": " A ", "text": "Text.", "tags": ["x"]}])
    assert load_documents(path) == [Document("a", "A", "Text.", ("x",))]


def test_bad_entries_are_all_reported_by_index_and_id(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        [
            {"id": "ok", "title": "Ok", "text": "Fine.", "tags": []},
            {"id": "no-text", "title": "T"},
            {"id": "ok", "title": "Dup", "text": "Again."},
            {"id": "bad id!", "title": "T", "text": "x"},
            {"id": "typo", "title": "T", "txt": "x", "text": "y", "tags": "notalist"},
            "just a string",
        ],
    )
    with pytest.raises(DocumentError) as err:
        load_documents(path)
    problems = err.value.problems
    message = str(err.value)
    assert str(path) in message
    assert any("entry 1 (id 'no-text')" in p and "'text'" in p for p in problems)
    assert any(
        "entry 2 (id 'ok')" in p and "duplicate id" in p and "entry 0" in p for p in problems
    )
    assert any("entry 3 (id 'bad id!')" in p and "'id'" in p for p in problems)
    assert any("entry 4 (id 'typo')" in p and "unknown key 'txt'" in p for p in problems)
    assert any("entry 4 (id 'typo')" in p and "'tags'" in p for p in problems)
    assert any(p.startswith("entry 5:") for p in problems)
    assert not any("entry 0" in p.split(":")[0] for p in problems)


def test_syntax_error_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "kb.json"
    path.write_text('[\n  {"id": "a",\n   "title": "A" "text": "x"}\n]', encoding="utf-8")
    with pytest.raises(DocumentError) as err:
        load_documents(path)
    assert "line 3" in str(err.value) and str(path) in str(err.value)


def test_top_level_must_be_a_list_and_file_must_exist(tmp_path: Path) -> None:
    with pytest.raises(DocumentError, match="top level must be a list"):
        load_documents(_write(tmp_path, {"id": "a"}))
    with pytest.raises(DocumentError, match="cannot read"):
        load_documents(tmp_path / "missing.json")


def test_shipped_knowledge_base_is_valid_and_complete() -> None:
    docs = {d.id: d for d in load_documents(SHIPPED)}
    assert len(docs) >= 22
    text = " ".join(d.text for d in docs.values())
    for fact in [
        "Thursday 8:00 am to 7:00 pm",
        "Sunday closed",
        "America/New_York",
        "December 24, 2026",
        "January 1, 2027",
        "July 5, 2027",
        "Memorial Day",
        "Labor Day",
        "Thanksgiving",
        "415 Maple Avenue, Springfield",
        "+1 555 010 0100",
        "$50",
        "24 hours",
        "Invisalign",
        "CareCredit",
    ]:
        assert fact in text, fact
    for doc in docs.values():
        assert doc.tags, doc.id


def test_chunks_respect_max_size_and_overlap_by_a_sentence() -> None:
    sentences = [f"Sentence number {i} says something specific about topic {i}." for i in range(40)]
    chunks = chunk_text(" ".join(sentences), max_chars=300, overlap_chars=80)
    assert len(chunks) > 5
    assert all(len(c) <= 300 for c in chunks)
    for before, after in pairwise(chunks):
        assert before.endswith(after.split(". ")[0] + ".")
    joined = " ".join(chunks)
    assert all(s in joined for s in sentences)


def test_paragraphs_stay_whole_when_they_fit() -> None:
    text = "First paragraph here.\n\n  Second   paragraph\nwraps a line."
    assert chunk_text(text) == ["First paragraph here.\n\nSecond paragraph wraps a line."]
    long_para = "A" * 50 + ". " + "B" * 50 + "."
    # The long paragraph splits at its sentence end; pieces pack greedily up to max_chars.
    assert chunk_text(f"Intro.\n\n{long_para}", max_chars=80, overlap_chars=0) == [
        "Intro.\n\n" + "A" * 50 + ".",
        "B" * 50 + ".",
    ]


def test_short_text_is_one_chunk_and_long_words_are_cut() -> None:
    assert chunk_text("  Short   text.\n") == ["Short text."]
    pieces = chunk_text("x" * 130, max_chars=50, overlap_chars=0)
    assert [len(p) for p in pieces] == [50, 50, 30]


def test_document_rows_have_stable_ids_and_a_title_view() -> None:
    doc = Document("hours", "Opening hours", "Open 8-5.", ("hours", "open"))
    rows = document_chunks(doc)
    assert [r.id for r in rows] == ["hours#0", "hours#title"]
    assert rows[1].embedded_text == "Opening hours (hours, open)"
    assert rows[1].text == "Open 8-5."
    assert rows[0].embedded_text == "Opening hours\nOpen 8-5."
    assert document_chunks(doc) == rows
