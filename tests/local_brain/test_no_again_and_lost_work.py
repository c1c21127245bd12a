"""Issue 15 (stop 11): a "no" whose rest only says no again is a no ("No, actually, forget
it."), while a "no" followed by a question still lets the question decide; a filling or crown
that fell out or came off is an emergency, not a question about fillings."""

from __future__ import annotations

import pytest

from adapters.local.brain.keywords import NO, keyword_intent, more_follows
from adapters.local.brain.slots import reason_in


@pytest.mark.parametrize(
    "text", ["No, actually, forget it.", "No, never mind.", "Nope, I changed my mind.",
             "No thanks, not today."],
)
def test_a_no_that_says_no_again_is_a_no(text: str) -> None:
    assert not more_follows(text)
    assert keyword_intent(text) == NO


@pytest.mark.parametrize("text", ["No, actually, can I ask about parking first?",
                                  "No. But what does a crown cost?"])
def test_a_no_before_a_question_still_defers(text: str) -> None:
    assert more_follows(text)


@pytest.mark.parametrize(
    "text", ["A filling fell out and now my tooth is sensitive.", "My crown came off.",
             "My filling feels loose.", "My gum has been bleeding since yesterday."],
)
def test_lost_work_and_bleeding_are_emergencies(text: str) -> None:
    assert reason_in(text) == "emergency"


def test_a_question_about_fillings_is_not_an_emergency() -> None:
    assert reason_in("How long does a filling take?") == "filling"
