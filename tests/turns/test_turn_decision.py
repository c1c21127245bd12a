"""The end-of-turn decision at a pause: the transcript's completeness and the turn model."""

from __future__ import annotations

import pytest

from engine.turns.completeness import digits_said, unfinished
from engine.turns.decision import decide
from flows.turns import TurnPolicy


@pytest.mark.parametrize("text", [
    "I need to cancel my appointment and",
    "My number is five five five",
    "my phone number is 555 01",
    "My name is Smith, S, M, I",
    "I'd like to book a",
    "Can I come in on, um",
    "I'd like to book...",
])
def test_unfinished_transcripts_wait(text: str) -> None:
    assert unfinished(text)
    assert not decide(TurnPolicy(), text, 0.99).end_now  # even when the model says done


@pytest.mark.parametrize("text", [
    "Are you open on Saturday?",
    "I'd like to book... a cleaning",
    "My number is five five five, one two three, four five six seven.",
    "Yes, that works for me.",
    "I have 2 kids",
])
def test_finished_transcripts_end_when_the_model_agrees(text: str) -> None:
    assert unfinished(text) == ""
    assert decide(TurnPolicy(), text, 0.9).end_now
    assert not decide(TurnPolicy(), text, 0.2).end_now  # the model hears it unfinished
    assert decide(TurnPolicy(model="off"), text, 0.2).end_now  # model off: text alone
    assert decide(TurnPolicy(), text, None).end_now  # no model installed: text alone


def test_a_capture_state_waits_for_more_groups() -> None:
    assert unfinished("five five five", "digits")
    assert unfinished("five five five") == ""  # no cue, no capture: a plain answer
    assert unfinished("Smith, S", "name")
    assert digits_said("five five five, 0123 double") == 7


def test_the_threshold_is_the_policys() -> None:
    assert decide(TurnPolicy(threshold=0.8), "Yes please.", 0.7).end_now is False
    assert decide(TurnPolicy(threshold=0.6), "Yes please.", 0.7).end_now is True


@pytest.mark.parametrize(("text", "why"), [  # the mid-pause set's first halves, as whisper
    ("I'd like to book.", "'to book' without what"),  # writes them at the pause
    ("I'd like to vote.", "'to vote' without what"),  # ... or mishears them
    ("I need to cancel.", "'to cancel' without what"),
    ("My last name is Smith.", "one name, more may follow"),
    ("My name is Maria,", "trails off"),
    ("My date of birth is March 3rd.", "a date of birth without its year"),
    ("I was born on the fifth of June", "a date of birth without its year"),
    ("My birthday is oh three one five", "4 digits of a date so far"),
])
def test_half_said_turns_that_read_like_sentences_wait(text: str, why: str) -> None:
    assert unfinished(text) == why
    assert not decide(TurnPolicy(), text, 0.98).end_now


@pytest.mark.parametrize("text", [
    "I'd like to book a cleaning next week.",
    "My name is Maria Lopez.",
    "My date of birth is March 3rd 1984",
    "My date of birth is March third, nineteen eighty four.",
    "My birthday is oh three one five eight four",
    "I need to cancel my appointment.",
    "I'd like to speak to someone.",
])
def test_the_same_turns_said_whole_read_finished(text: str) -> None:
    assert unfinished(text) == ""
