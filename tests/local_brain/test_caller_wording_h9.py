"""Issue 15, the classes the held-out split h9 found (none of these sentences is h9's own):
thanks said as appreciation, "will there be anyone in", an insurer named by its name next to
"my job", signs of infection and bad pain as an emergency, "when can you see me", "the
following week", "under the name of", the caller's next visit, moving an exam, and asking
for someone "on the line" or to be put through.

The clock is Tuesday 1 December 2026, 09:00 in New York.
"""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.local.brain import reschedule
from adapters.local.brain.answers import find_answer
from adapters.local.brain.idioms import restate
from adapters.local.brain.keywords import BOOK, CHECK, HUMAN, THANKS, keyword_intent
from adapters.local.brain.slots import name_in, reason_in
from adapters.local.brain.when import parse_date
from knowledge.lexical import LexicalIndex

TODAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize("said", [
    "Alright, I really appreciate that.", "Much appreciated.", "Cool, thanks a bunch.",
    "Lovely, thank you kindly.",
])
def test_appreciation_is_thanks(said) -> None:
    assert keyword_intent(said) == THANKS


def test_will_there_be_someone_in_asks_the_hours() -> None:
    assert "are you open" in restate("Will there be somebody there on Saturday morning?")


@pytest.mark.parametrize("said", [
    "Could you get someone from billing on the phone?",
    "Can you put me through to the hygienist?",
    "Please connect me with Dr. Chen's assistant.",
])
def test_putting_the_call_through_asks_for_a_person(said) -> None:
    assert keyword_intent(said) == HUMAN


@pytest.mark.parametrize("said", [
    "There's pus coming out of my gum.", "My molar has been aching all week.",
    "The tooth is throbbing and it's killing me.", "I think my wisdom tooth is infected.",
])
def test_infection_and_bad_pain_are_an_emergency(said) -> None:
    assert reason_in(said) == "emergency"


def test_the_following_week_is_next_week() -> None:
    assert parse_date("Thursday of the following week", TODAY) == dt.date(2026, 12, 10)
    assert parse_date("Friday, the week after this one", TODAY) == dt.date(2026, 12, 11)


def test_under_the_name_of() -> None:
    assert name_in("Monday at 9 for a cleaning, under the name of Rosa Vega?") == "Rosa Vega"
    assert name_in("What's the name of your hygienist?") is None


def test_shifting_an_exam_is_a_move() -> None:
    assert reschedule.REQUEST.search("can you shift my exam to monday")
    assert reschedule.REQUEST.search("I'd like to push my whitening to next week")


@pytest.mark.parametrize(("said", "intent"), [
    ("I've got a cavity, how soon can you see me?", BOOK),
    ("My son needs a filling. When could the dentist see him?", BOOK),
    ("Remind me of the day of my upcoming cleaning?", CHECK),
])
def test_when_can_you_see_me_books_and_my_next_visit_checks(brain, said, intent) -> None:
    assert brain.classifier.classify(restate(said)).intent == intent


def test_a_name_only_one_entry_has_among_its_tags() -> None:
    index = LexicalIndex.from_texts(
        {"ins": ["Insurance", "insurance, Cigna", "We take Cigna and most PPO plans."],
         "sick": ["Hygiene", "hygiene, sick", "Call us if you are sick."],
         "team": ["Team", "team", "Our dentists accept new patients."]},
        {"ins": "Insurance insurance, Cigna", "sick": "Hygiene hygiene, sick", "team": "Team"},
    )
    assert index.named("my job gives me Cigna, is that fine?") == {"ins"}
    assert index.named("I'm sick, can I still come?") == set()  # a tag, but not a name


def test_an_insurer_named_next_to_my_job_is_answered(retriever) -> None:
    hit = find_answer(retriever, "My husband has Cigna through his job. Is that going to be a "
                                 "problem with you?")
    assert hit is not None and hit.doc_id == "insurance"
    assert find_answer(retriever, "Are you hiring? I'm looking for a job.") is None


# --- the classes the extra tune calls t15 found (written in stop 15; none of these is theirs)


def test_someone_there_who_speaks_a_language_is_not_the_hours() -> None:
    assert "open" not in restate("Is there somebody in who speaks Portuguese?")


def test_a_bare_hour_said_with_an_approval(brain) -> None:
    from adapters.local.brain.when import parse_time
    assert parse_time("Nine would be perfect for me.", bare=True) == dt.time(9)
    assert parse_time("Ten is fine.", bare=True) == dt.time(10)


def test_on_your_schedule_is_the_callers_own_booking(brain) -> None:
    assert brain.classifier.classify("Am I on the books for anything next week?").intent == CHECK


def test_a_tooth_knocked_out_with_words_between_is_an_emergency() -> None:
    assert reason_in("She knocked her front tooth out at soccer.") == "emergency"


def test_a_duration_asked_leads_with_the_sentence_that_gives_one() -> None:
    from adapters.local.brain.answers import spoken_answer
    text = ("Braces straighten teeth. Our orthodontist fits them in the office. "
            "Treatment usually lasts 12 to 18 months.")
    assert "12 to 18 months" in " ".join(spoken_answer(text, "How long do braces take?",
                                                      max_chars=60))
