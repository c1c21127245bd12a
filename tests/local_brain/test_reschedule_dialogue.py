"""Issue 15: a reschedule is one transaction. The new time the caller already gave is kept,
nothing is cancelled before the new slot is booked, a refused new slot keeps the old
appointment (and says so), and a caller who hangs up half-way still has an appointment.

The clock is Tuesday 1 December 2026, 09:00 in New York; the caller id is +15551230001.
"""

from __future__ import annotations

from brain_testkit import CALLER
from test_check_cancel import OTHER, book


def _booked(storage) -> list[tuple[str, str]]:
    return sorted((a.start.isoformat(), a.phone) for a in storage.list_appointments()
                  if a.status == "booked")


def test_one_sentence_reschedule_keeps_the_new_time_given(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-03", "10:00", "cleaning")
    call = dialogue(call_id="CA-mv1")
    reply = call.say("I need to move my appointment to Friday at 11")
    assert reply.sentences[-2:] == [
        "Just to confirm: I'll move your cleaning on Thursday, December 3rd at 10 AM to "
        "Friday, December 4th at 11 AM.", "Shall I go ahead?"]
    assert _booked(storage) == [("2026-12-03T15:00:00+00:00", CALLER)]
    done = call.say("Yes, please.")
    assert [t.name for t in done.tools] == ["reschedule_appointment"]
    assert "Your cleaning is now on Friday, December 4th at 11 AM." in done.text
    assert _booked(storage) == [("2026-12-04T16:00:00+00:00", CALLER)]


def test_a_taken_new_slot_keeps_the_old_appointment_and_offers_others(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-03", "10:00", "cleaning")
    book(storage, OTHER, "2026-12-04", "11:00", "checkup", name="Sam Roe")
    call = dialogue(call_id="CA-mv2")
    call.say("Can I reschedule my cleaning to Friday at 11?")
    refused = call.say("yes")
    assert "I'm sorry, that time is already taken." in refused.text
    assert ("Your appointment on Thursday, December 3rd at 10 AM is still booked."
            in refused.sentences)
    assert ("2026-12-03T15:00:00+00:00", CALLER) in _booked(storage)
    picked = call.say("the first one")
    assert picked.sentences[-1] == "Shall I go ahead?"
    assert "Done." in call.say("yes").text
    assert len(_booked(storage)) == 2 and ("2026-12-03T15:00:00+00:00", CALLER) \
        not in _booked(storage)


def test_hanging_up_half_way_leaves_the_appointment_booked(dialogue, storage, brain) -> None:
    book(storage, CALLER, "2026-12-03", "10:00", "cleaning")
    call = dialogue(call_id="CA-mv3")
    asked = call.say("I'd like to reschedule my appointment")
    assert asked.sentences[-1] == "What day would you like to move it to?"
    assert call.say("Monday").sentences == ["What time works for you on Monday, December 7th?"]
    brain.forget("CA-mv3")  # the caller hung up
    assert _booked(storage) == [("2026-12-03T15:00:00+00:00", CALLER)]


def test_spoken_time_forms_are_accepted_for_the_new_time(dialogue, storage) -> None:
    book(storage, CALLER, "2026-12-03", "10:00", "cleaning")
    call = dialogue(call_id="CA-mv4")
    call.say("I want to change my appointment")
    call.say("Monday")
    confirm = call.say("3.30")
    assert "to Monday, December 7th at 3:30 PM." in confirm.sentences[0]
    again = call.say("no")
    assert again.sentences[-1] == "What day and time would you prefer instead?"
    assert "Tuesday, December 8th at 3:30 PM" in call.say("Tuesday at 330 please").text
