"""The streaming sentence splitter: where sentences end, and that they come out at once."""

from __future__ import annotations

import pytest

from engine.sentences import SentenceSplitter, split_sentences


def feed_in_pieces(text: str, size: int) -> list[str]:
    splitter = SentenceSplitter()
    out: list[str] = []
    for start in range(0, len(text), size):
        out += splitter.feed(text[start : start + size])
    return out + splitter.flush()


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        ("Sure. We open at 8.30 tomorrow! Anything else?",
         ["Sure.", "We open at 8.30 tomorrow!", "Anything else?"]),
        ("It costs $45.50 with insurance. Shall I book it?",
         ["It costs $45.50 with insurance.", "Shall I book it?"]),
        ("Dr. Patel and Mrs. Gomez are in. St. Mary's is next door.",
         ["Dr. Patel and Mrs. Gomez are in.", "St. Mary's is next door."]),
        ("We open at 8 a.m. on weekdays. Call us!",
         ["We open at 8 a.m. on weekdays.", "Call us!"]),
        ("We close at 5 p.m. Saturdays are shorter.",
         ["We close at 5 p.m.", "Saturdays are shorter."]),
        ("Ask for J. Smith at the desk. Thanks.", ["Ask for J. Smith at the desk.", "Thanks."]),
        ("Bring documents, e.g. your card. Done.", ["Bring documents, e.g. your card.", "Done."]),
        ('She said "see you soon." Then she left.', ['She said "see you soon."', "Then she left."]),
        ("Really?! That's great.", ["Really?!", "That's great."]),
        ("Well... let me check. One moment.", ["Well... let me check.", "One moment."]),
        ("No. That slot is taken.", ["No.", "That slot is taken."]),
        ("First line\nSecond line", ["First line", "Second line"]),
        ("A reply without an end", ["A reply without an end"]),
        ("   ", []),
    ],
)
def test_sentences_end_where_speech_would_pause(text: str, sentences: list[str]) -> None:
    assert split_sentences(text) == sentences
    # Streaming it in any piece size gives the same sentences.
    for size in (1, 3, 7):
        assert feed_in_pieces(text, size) == sentences


def test_a_sentence_comes_out_as_soon_as_the_space_after_it_arrives() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("We open at 8") == []
    assert splitter.feed(".") == []  # could still be 8.30
    assert splitter.feed("30. ") == ["We open at 8.30."]
    assert splitter.feed("See you") == []
    assert splitter.pending == "See you"
    assert splitter.flush() == ["See you"]
    assert splitter.flush() == []


def test_after_an_abbreviation_the_next_word_decides() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("Come at 9 a.m. ") == []  # "a.m." may or may not end it
    assert splitter.feed("tomorrow. ") == ["Come at 9 a.m. tomorrow."]
    assert splitter.feed("Or at 10 a.m. ") == []
    assert splitter.feed("Which suits you? ") == ["Or at 10 a.m.", "Which suits you?"]


def test_a_long_run_without_an_end_is_cut_at_a_comma() -> None:
    text = "We have slots on Monday, " * 20
    splitter = SentenceSplitter(max_chars=120)
    pieces = splitter.feed(text) + splitter.flush()
    assert len(pieces) > 1
    assert all(len(p) <= 120 for p in pieces)
    assert all(p.endswith(",") for p in pieces[:-1])
    assert " ".join(pieces) == text.strip()
