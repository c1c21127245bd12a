"""Recovering a misheard name (issue 15): letters spelled out, one part corrected."""

from __future__ import annotations

import pytest

from adapters.local.brain.name_repair import join_spelled, revise


@pytest.mark.parametrize(("text", "joined"), [
    ("It's L O P E Z.", "It's Lopez"),
    ("It is L-O-P-E-Z", "It is Lopez"),
    ("my name is Ng, N. G.", "my name is Ng"),
    ("It's Sean, S E A N, Murphy.", "It's Sean Murphy."),  # the name heard, then spelled
    ("It's Shawn, S E A N, Murphy.", "It's Sean Murphy."),  # the spelling wins
    ("Ana, A N A", "Ana"),
    ("Megan Riley, R I L E Y", "Megan Riley"),
])
def test_spelled_letters_become_the_word(text: str, joined: str) -> None:
    assert join_spelled(text) == joined


@pytest.mark.parametrize("text", ["at 9 A M", "I'll be there at 3 PM", "Is it OK?",
                                  "My name is Ana Lopez."])
def test_words_that_are_not_spelled_are_left_alone(text: str) -> None:
    assert join_spelled(text) == text


@pytest.mark.parametrize(("old", "new", "text", "name"), [
    ("Anna Lopes", "Lopez", "No, the name is Lopez", "Anna Lopez"),  # sounds like the last
    ("Kate Lee", "Leigh", "The last name is Leigh", "Kate Leigh"),  # the part named
    ("Jon Smith", "John", "My first name is John", "John Smith"),
    ("Jon Miller", "John Mills", "the name is John Mills", "John Mills"),  # a whole name
    ("Anna Lopes", "Peter", "No, it's Peter", "Peter"),  # like neither part: a new name
    (None, "Lopez", "It's Lopez", "Lopez"),
])
def test_a_one_part_correction_is_merged(old, new: str, text: str, name: str) -> None:
    assert revise(old, new, text) == name


def test_a_misheard_name_is_corrected_by_spelling_it(dialogue) -> None:
    call = dialogue(call_id="CA-spell")
    first = call.say("I'd like a checkup on Monday at 10. My name is Dana Cavalsky.")
    assert "Dana Cavalsky" in first.text
    fixed = call.say("No, the last name is K O W A L S K I.")
    assert "for Dana Kowalski." in fixed.text and "Shall I book it" in fixed.text
    assert fixed.tools == []
