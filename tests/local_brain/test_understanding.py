"""Issue 15, understanding: details kept whenever given, a taken slot caught before the
confirmation, yes/no judged on the whole utterance, emergencies answered with the clinic's
guidance then a person, and questions that are not bookings.

The clock is Tuesday 1 December 2026, 09:00 in New York; the caller id is +15551230001.
"""

from __future__ import annotations

import pytest
from brain_testkit import Dialogue, make_brain
from test_check_cancel import OTHER, book

from adapters.local.brain.keywords import keyword_intent


@pytest.fixture
def checking(retriever, embedder, storage):
    """A call on a brain that checks slots, as `RulesBrain.from_settings` builds it."""
    brain = make_brain(retriever, embedder, check_slots=True)
    return lambda call_id: Dialogue(brain, storage, call_id=call_id)


@pytest.mark.parametrize("answer", ["3 PM. Ana Lopez.", "At three. It's Ana Lopez.",
                                    "Three in the afternoon, Ana Lopez please"])
def test_a_name_given_with_the_time_is_kept(dialogue, answer: str) -> None:
    call = dialogue(call_id=f"CA-n-{len(answer)}")
    call.say("I want to book a checkup")
    call.say("Thursday")
    reply = call.say(answer)
    assert reply.sentences == [
        "Just to confirm: a checkup on Thursday, December 3rd at 3 PM for Ana Lopez.",
        "Shall I book it?"]


def test_a_taken_slot_is_checked_before_the_name_or_the_confirmation(checking, storage) -> None:
    book(storage, OTHER, "2026-12-03", "15:30", "checkup", name="Sam Roe")
    call = checking("CA-taken")
    reply = call.say("I'd like a cleaning on Thursday at 3.30")
    assert [t.name for t in reply.tools] == ["check_availability"]
    assert reply.sentences[0] == "I'm sorry, Thursday, December 3rd at 3:30 PM is already taken."
    assert "Shall I book it?" not in reply.text
    picked = call.say("the first one")
    assert picked.sentences == ["And what name should I put the appointment under?"]
    confirm = call.say("Ana Lopez")
    assert confirm.sentences[-1] == "Shall I book it?" and confirm.tools == []
    assert "You're all set" in call.say("yes").text


def test_a_free_slot_goes_straight_on(checking) -> None:
    call = checking("CA-free")
    reply = call.say("Can I book a cleaning on Thursday at 3:30? My name is Ana Lopez.")
    assert [t.name for t in reply.tools] == ["check_availability"]
    assert reply.sentences[-1] == "Shall I book it?"


@pytest.mark.parametrize("text", ["Okay. But can you tell me what it costs first?",
                                  "Yes, but how long does it take?", "Sure, what time is it?",
                                  "No, but do you take Cigna?"])
def test_a_yes_or_no_followed_by_a_question_is_not_an_answer(text: str) -> None:
    assert keyword_intent(text) is None


@pytest.mark.parametrize("text", ["Okay.", "Yes, please.", "Sure, go ahead.", "No thanks."])
def test_plain_yes_and_no_still_are(text: str) -> None:
    assert keyword_intent(text) in ("yes", "no")


def test_okay_but_a_question_at_the_offer_is_answered_not_transferred(dialogue) -> None:
    call = dialogue(call_id="CA-ok-but")
    offer = call.say("Are you hiring?")
    assert offer.sentences[-1].endswith("Which would you prefer?")
    reply = call.say("Okay. But do you take Cigna?")
    assert reply.tools == []
    assert "Cigna" in reply.text


def test_an_emergency_gets_the_guidance_then_the_offer_of_a_person(dialogue) -> None:
    call = dialogue(call_id="CA-urgent")
    reply = call.say("I chipped my tooth and it hurts, what should I do?")
    assert reply.tools == []
    assert "same-day emergency slots" in reply.text
    assert reply.sentences[-1].endswith("Which would you prefer?")
    transfer = call.say("Connect me please")
    assert [t.name for t in transfer.tools] == ["transfer_to_human"]
    assert "chipped my tooth" in transfer.tools[0].args["reason"]


def test_a_question_about_nervous_kids_is_not_a_booking(dialogue) -> None:
    reply = dialogue(call_id="CA-kids").say("Do you do anything for kids who are nervous?")
    assert reply.tools == []
    assert "nervous" in reply.text and "What day" not in reply.text


@pytest.mark.parametrize("question", ["Are you hiring?", "How much do I still owe?"])
def test_what_the_knowledge_base_does_not_cover_is_refused(dialogue, question: str) -> None:
    reply = dialogue(call_id=f"CA-x-{len(question)}").say(question)
    assert reply.sentences[0] == "I'm sorry, I don't have that information."
    assert "take a message" in reply.text


def test_an_answer_that_does_not_fit_is_asked_again_not_answered_from_the_kb(dialogue) -> None:
    call = dialogue(call_id="CA-free")
    call.say("Can I come in for a checkup on Monday?")
    reply = call.say("Free in the evening, maybe.")  # heard so; not a question about "free"
    assert "Invisalign" not in reply.text
