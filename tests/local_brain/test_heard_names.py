"""Issue 15: a name speech-to-text wrote as a near-sound non-name ("Paula Morno") is repaired
to the common name it surely is; a real name, even a rare one, is never changed.
"""

from __future__ import annotations

import pytest
from brain_testkit import CALLER

from adapters.local.brain.heard_names import repair


@pytest.mark.parametrize(("heard", "meant"), [
    ("Paula Morno", "Paula Moreno"),  # heard so in h6's audio run
    ("Lisa Moreno", "Lisa Moreno"),
])
def test_a_misheard_common_name_is_repaired(heard: str, meant: str) -> None:
    assert repair(heard) == meant


@pytest.mark.parametrize("name", [
    "Daniel Okafor", "Omar Haddad", "Grace Nguyen", "Anna Lopes", "Jon Miller", "Sofia Rossi",
    "Tom Reed", "Al Li", "Omar Said", "Brainwash", "More French",
])
def test_a_real_or_unsure_name_is_left_as_heard(name: str) -> None:
    assert repair(name) == name


def test_the_booking_reads_back_the_repaired_name(dialogue, storage) -> None:
    call = dialogue(call_id="CA-nm1", caller=CALLER)
    reply = call.say("Hi, this is Paula Morno, I'd like to book a cleaning next Tuesday at 10:30.")
    assert "Paula Moreno" in reply.text and "Shall I book it?" in reply.sentences


def test_a_rare_spelling_of_a_common_name_is_heard_as_the_common_one() -> None:
    # Spelling cannot be heard: "Kowalsky" and "Kowalski" sound the same, so the common
    # spelling is read back; the caller who spells it gets theirs (test_name_repair).
    assert repair("Dana Kowalsky") == "Dana Kowalski"
