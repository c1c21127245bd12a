"""Splitting replies into sentences and clauses for early speech."""

from __future__ import annotations

from adapters.local.clauses import split_clauses


def test_splits_at_sentences_and_clauses_keeping_punctuation() -> None:
    text = "Sure, I can help with that. What day works for you; Tuesday? Great!"
    assert split_clauses(text) == [
        "Sure,",
        "I can help with that.",
        "What day works for you;",
        "Tuesday?",
        "Great!",
    ]


def test_numbers_and_abbreviations_stay_whole() -> None:
    text = "Dr. Smith charges $1,000 or 3.5 hours, e.g. a long visit."
    assert split_clauses(text) == ["Dr. Smith charges $1,000 or 3.5 hours,", "e.g. a long visit."]


def test_punctuation_only_pieces_join_the_previous_one() -> None:
    assert split_clauses("Well... ... okay then.") == ["Well... ...", "okay then."]


def test_closing_quotes_stay_with_their_clause() -> None:
    assert split_clauses('He said "fine." Then left.') == ['He said "fine."', "Then left."]


def test_blank_text_has_no_pieces() -> None:
    assert split_clauses("  \n ") == []
    assert split_clauses("one piece") == ["one piece"]


def test_a_long_first_piece_is_cut_at_a_phrase_boundary_and_the_rest_is_kept() -> None:
    text = ("Patients park for free in the lot behind the Maple Medical Building; the garage "
            "on Oak Street costs $2 an hour, and it is open late.")
    assert split_clauses(text) == [
        "Patients park for free,",
        "in the lot behind the Maple Medical Building;",
        "the garage on Oak Street costs $2 an hour,",
        "and it is open late.",
    ]


def test_a_long_first_piece_without_a_boundary_in_reach_stays_whole() -> None:
    text = "The office is fully wheelchair accessible everywhere."
    assert split_clauses(text) == [text]
    short = "Sure, what can I help you with?"
    assert split_clauses(short) == ["Sure,", "what can I help you with?"]
