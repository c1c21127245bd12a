"""Issue 15 (stop 10), from the third held-out split's failures (that split is tune now): a
bare weekday said as a change is read in the week of the day already chosen; a question
about a policy that mentions an appointment is a question, not a check; a request about the
caller's own records is neither a transfer nor an answer from the knowledge base.

The clock is Tuesday 1 December 2026, 09:00 in New York."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.local.brain.when import parse_date

TODAY = dt.date(2026, 12, 1)


@pytest.mark.parametrize(
    ("text", "week_of", "expected"),
    [
        ("make it Wednesday instead", dt.date(2026, 12, 8), dt.date(2026, 12, 9)),
        ("Monday then", dt.date(2026, 12, 8), dt.date(2026, 12, 7)),
        ("make it Monday instead", dt.date(2026, 12, 3), dt.date(2026, 12, 7)),  # passed
        ("Thursday", dt.date(2026, 12, 2), dt.date(2026, 12, 3)),
        ("next Wednesday", dt.date(2026, 12, 8), dt.date(2026, 12, 9)),
        ("Wednesday", None, dt.date(2026, 12, 2)),
    ],
)
def test_a_weekday_said_as_a_change_stays_in_that_week(text, week_of, expected) -> None:
    assert parse_date(text, TODAY, week_of=week_of) == expected


def test_changing_the_day_at_the_confirmation_keeps_the_week(dialogue, storage) -> None:
    call = dialogue(call_id="CA-dc1")
    call.say("Can I book a checkup on Tuesday at 2? My name is Mark Bell.")
    changed = call.say("Actually, make it Wednesday instead.")
    assert "Wednesday, December 9th at 2 PM" in changed.text
    call.say("Yes please.")
    assert [a.start.day for a in storage.list_appointments()] == [9]


def test_a_policy_question_naming_an_appointment_is_answered(dialogue, storage) -> None:
    reply = dialogue(call_id="CA-dc2").say("Is there a charge if I miss an appointment?")
    assert "$50" in reply.text
    assert not reply.tools  # no look-up of the caller's appointments


def test_sending_my_dental_records_is_a_message_not_a_transfer(dialogue, storage) -> None:
    call = dialogue(call_id="CA-dc3")
    first = call.say("Can you send my dental records to my new dentist?")
    assert "don't have that information" in first.text and not first.tools
    taken = call.say("Take a message, please.")
    assert [t.name for t in taken.tools] == ["escalate_to_human"]
