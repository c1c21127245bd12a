"""Booking an appointment over several turns: fill the details from what the caller says,
ask for what is missing one thing at a time (day, time, name, then a phone number only if
the caller id is hidden), confirm, and only on "yes" ask for `book_appointment`. Its outcome
is read back: booked, or the slot refused with the nearest free times offered, or an error.

With a `BusinessCalendar` (settings.business) closed days and times outside opening hours
are caught before the confirmation; without one the booking tool catches them. With
`check_slots` a taken slot is caught too, by `check_availability`, as soon as the day and time
are known (before the name is asked for and long before "Shall I book it?").
Touches only the `CallState` it is given.
"""

from __future__ import annotations

import datetime as dt
import re

from adapters.local.brain.heard_names import repair
from adapters.local.brain.keywords import YES
from adapters.local.brain.name_repair import join_spelled, revise
from adapters.local.brain.replies import (
    SORRY_FAILED,
    Out,
    ToolAnswer,
    TurnContext,
    anything_else,
    ask,
    offer_help,
    use_tool,
)
from adapters.local.brain.slots import (
    DEFAULT_REASON,
    choice_in,
    name_aside,
    name_in,
    phone_in,
    reason_in,
    say_reason,
)
from adapters.local.brain.spoken import say_date, say_slots, say_time, say_when
from adapters.local.brain.state import Booking, CallState, Stage
from adapters.local.brain.when import When, parse_when
from tools.calendar import BusinessCalendar

BOOK_TOOL = "book_appointment"
AVAILABILITY_TOOL = "check_availability"
_WHAT_TO_CHANGE = "No problem. What should I change: the day, the time, or the name?"
_DROP = re.compile(r"\b(never ?mind|forget it|don't book|do not book|nothing|cancel)\b")


def _weekday(day: dt.date) -> str:
    return f"{day:%A}"


#: A visit named by what was just asked about: "could I get one done?", "book that for me".
_THAT_ONE = re.compile(r"\b(get|have|book|schedule|do|want) (one|it|that|them)\b|"
                       r"\bone (done|booked|scheduled)\b", re.IGNORECASE)

class BookingDialogue:
    """The booking steps; `calendar` (optional) pre-checks opening hours."""

    def __init__(
        self, calendar: BusinessCalendar | None = None, *, default_reason: str = DEFAULT_REASON,
        check_slots: bool = False,
    ) -> None:
        self.calendar = calendar
        self.default_reason = default_reason
        #: Ask `check_availability` as soon as a day and time are known (needs that tool).
        self.check_slots = check_slots

    # --- turns -------------------------------------------------------------------------

    def start(self, state: CallState, ctx: TurnContext) -> list[Out]:
        """A new booking, with whatever the request already said ("a cleaning on Friday")."""
        state.reset_task()
        state.task = "book"
        state.booking = Booking(phone=ctx.caller)
        self._fill(state.booking, ctx, asked=None)
        if state.booking.reason is None and _THAT_ONE.search(ctx.text):
            state.booking.reason = state.asked_about  # "could I get one done Thursday?"
        return self._next(state, ctx)

    def on_answer(self, state: CallState, ctx: TurnContext) -> list[Out] | None:
        """The caller answered a question about a detail; None when the words held none."""
        booking = state.booking
        several = len(booking.offered) > 1
        if several and ctx.is_(YES) and choice_in(ctx.text, len(booking.offered)) is None:
            return ask(state, f"Which one would you like: {say_slots(booking.offered)}?")
        if self._fill(booking, ctx, asked=state.asked):
            return self._next(state, ctx)
        return None

    def on_confirm(self, state: CallState, ctx: TurnContext, *, heard: bool) -> list[Out] | None:
        """The answer to "Shall I book it?": yes books, a change re-confirms, no asks what."""
        booking = state.booking
        if self._fill(booking, ctx, asked=None):
            return self._next(state, ctx)
        if ctx.is_(YES):
            if not heard:
                return self._confirmation(state, "Sorry, just to be sure.")
            return use_tool(
                state, BOOK_TOOL, booking.args(self.default_reason), "One moment while I book that."
            )
        if ctx.is_("no"):
            state.stage = Stage.AMEND
            return ask(state, _WHAT_TO_CHANGE)
        return None

    def on_amend(self, state: CallState, ctx: TurnContext) -> list[Out] | None:
        """What to change after a "no": new details, a detail to ask again, or drop it."""
        booking = state.booking
        if self._fill(booking, ctx, asked=None):
            return self._next(state, ctx)
        words = ctx.text.lower()
        cleared = False
        for slot, pattern in (("date", r"\b(day|date)\b"), ("time", r"\btime\b"),
                              ("name", r"\bname\b"), ("phone", r"\b(phone|number)\b")):
            if re.search(pattern, words):
                setattr(booking, slot, None)
                cleared = True
        if cleared:
            return self._next(state, ctx)
        if ctx.is_(YES):
            return self._confirmation(state)
        if ctx.is_("no") or _DROP.search(words):
            return anything_else(state, "Okay, I won't book anything.")
        return None

    def repeat(self, state: CallState, *before: str) -> list[Out]:
        """Ask the current question again."""
        return ask(state, *before, *state.question)

    # --- the tool's answer -------------------------------------------------------------

    def after_tool(self, state: CallState, answer: ToolAnswer, ctx: TurnContext) -> list[Out]:
        booking = state.booking
        if answer.ok:
            data = answer.data
            day = _date(data.get("date")) or booking.date
            at = _time(data.get("time")) or booking.time
            name = data.get("name") or booking.name
            what = say_reason(str(data.get("reason") or booking.reason or self.default_reason))
            when = say_when(day, at) if day and at else "that time"
            if data.get("already_booked"):
                first = f"You already have {what} booked on {when} for {name}."
            else:
                first = f"You're all set: {what} on {when} for {name}."
            return anything_else(state, first, "We'll send you a text reminder two days before.")
        if answer.code == "slot_unavailable":
            return self._refused(state, answer, ctx)
        field = answer.error.get("field")
        if answer.code == "invalid_arguments" and field in ("name", "phone", "date", "time"):
            setattr(booking, field, None)
            return self._next(state, ctx, f"I'm sorry, I couldn't use that {field}.")
        state.unanswered = "The caller wanted to book an appointment but the booking failed."
        return offer_help(state, SORRY_FAILED, "I couldn't book that just now.")

    def after_check(self, state: CallState, answer: ToolAnswer, ctx: TurnContext) -> list[Out]:
        """The availability check's answer: go on when free, else the nearest free times."""
        before, state.before_checked = state.before_checked, ()
        booking = state.booking
        if answer.ok:
            booking.checked = (booking.date, booking.time)  # type: ignore[assignment]
            return self._next(state, ctx, *before)
        if answer.code == "slot_unavailable":
            return self._refused(state, answer, ctx)
        booking.checked = (booking.date, booking.time)  # type: ignore[assignment]
        return self._next(state, ctx, *before)  # the booking tool will say what is wrong

    def _refused(self, state: CallState, answer: ToolAnswer, ctx: TurnContext) -> list[Out]:
        booking = state.booking
        reason = answer.error.get("reason")
        when = say_when(booking.date, booking.time) if booking.date and booking.time else ""
        if reason == "taken":
            lead = f"I'm sorry, {when} is already taken."
        elif reason in ("holiday", "closed_day") and booking.date:
            lead = f"I'm sorry, we're closed on {say_date(booking.date)}."
        elif reason == "past":
            lead = "I'm sorry, that time has already passed."
        else:
            lead = f"I'm sorry, we can't book {when or 'that time'}."
        offered = []
        for alt in answer.error.get("alternatives") or []:
            day, at = _date(alt.get("date")), _time(alt.get("time"))
            if day and at:
                offered.append((day, at))
        booking.time = None
        if answer.error.get("field") == "date":
            booking.date = None
        booking.offered = offered
        if not offered:
            state.unanswered = "The caller wanted an appointment but no time was free."
            return offer_help(state, lead, "I don't see any free times in the next two weeks.")
        state.stage, state.asked, state.misses = Stage.ASK, "time" if booking.date else "date", 0
        nearest = "The nearest free time is" if len(offered) == 1 else "The nearest free times are"
        return ask(
            state, lead, f"{nearest} {say_slots(offered)}.",
            "Would one of those work, or is there another time you'd prefer?",
        )

    # --- helpers -----------------------------------------------------------------------

    def _fill(self, booking: Booking, ctx: TurnContext, *, asked: str | None) -> bool:
        """Copy the details `ctx.text` gives into `booking`; True when anything changed."""
        text = ctx.text
        when = parse_when(text, ctx.today, bare_time=asked == "time",
                          week_of=booking.date or booking.refused_day)
        if booking.offered and asked in ("date", "time"):
            picked = _pick(booking, text, when, ctx)
            if picked is not None:
                booking.date, booking.time = picked
                booking.offered = []
                return True
        found = {
            "date": when.date,
            "time": when.time,
            "name": _name(booking.name, text, asked=asked == "name"),
            "reason": reason_in(text),
            "phone": phone_in(text),
        }
        changed = False
        for slot, value in found.items():
            if value is not None and value != getattr(booking, slot):
                setattr(booking, slot, value)
                changed = True
        return changed

    def _next(self, state: CallState, ctx: TurnContext, *before: str) -> list[Out]:
        """Ask for the next missing detail, or confirm when none is missing."""
        booking = state.booking
        problems = self._precheck(booking, ctx.now)
        slot = (booking.date, booking.time)
        if (self.check_slots and not problems and booking.date and booking.time
                and booking.checked != slot):
            # A taken slot is found out now, not after the caller has confirmed it.
            state.before_checked = before
            return use_tool(state, AVAILABILITY_TOOL,
                            {"date": booking.date.isoformat(), "time": f"{booking.time:%H:%M}"})
        missing = booking.missing()
        if missing is None:
            return self._confirmation(state, *before, *problems)
        if missing != state.asked:
            state.misses = 0
        state.stage, state.asked = Stage.ASK, missing
        return ask(state, *before, *problems, self._question(missing, booking))

    def _confirmation(self, state: CallState, *before: str) -> list[Out]:
        booking = state.booking
        assert booking.date is not None and booking.time is not None
        state.stage, state.asked = Stage.CONFIRM_BOOK, None
        what = say_reason(booking.reason or self.default_reason)
        return ask(
            state, *before,
            f"Just to confirm: {what} on {say_when(booking.date, booking.time)} "
            f"for {booking.name}.",
            "Shall I book it?",
        )

    @staticmethod
    def _question(slot: str, booking: Booking) -> str:
        if slot == "date":
            return "What day would you like to come in?"
        if slot == "time":
            assert booking.date is not None
            return f"What time works for you on {say_date(booking.date)}?"
        if slot == "name":
            return "And what name should I put the appointment under?"
        return "What's the best phone number to reach you?"

    def _precheck(self, booking: Booking, now: dt.datetime) -> list[str]:
        """Sentences about a day or time the office cannot take (and clears it)."""
        cal = self.calendar
        if cal is None or booking.date is None:
            return []
        day = booking.date
        if day in cal.holidays:
            booking.date, booking.refused_day = None, day
            return [f"I'm sorry, we're closed on {say_date(day)} for the holiday."]
        hours = cal.hours[day.weekday()]
        if hours is None:
            booking.date, booking.refused_day = None, day
            return [f"I'm sorry, we're closed on {_weekday(day)}s."]
        if booking.time is None:
            return []
        try:
            start = cal.local(day, booking.time)
        except ValueError:
            booking.time = None
            return ["I'm sorry, that time doesn't exist because of the clock change."]
        check = cal.check(start, now=now)
        if check.ok:
            return []
        booking.time = None
        opens, closes = say_time(hours.opens), say_time(hours.closes)
        if check.reason == "past":
            return ["I'm sorry, that time has already passed."]
        if check.reason == "misaligned":
            every = ("on the hour and half hour" if cal.slot_minutes == 30
                     else f"every {cal.slot_minutes} minutes")
            return [f"Appointments start {every}."]
        if check.reason == "too_late":
            slots = cal.slots_on(day, now=now)
            if slots:
                last = say_time(cal.to_local(slots[-1]).time())
                return [f"The last appointment on {_weekday(day)}s starts at {last}."]
        return [f"On {_weekday(day)}s we're open from {opens} to {closes}."]


def _name(old: str | None, text: str, *, asked: bool) -> str | None:
    """The name `text` gives (letters spelled out joined, a one-part correction merged into
    `old`), else None."""
    spoken = join_spelled(text)
    new = name_in(spoken, asked=asked) or (name_aside(spoken) if old is None else None)
    return repair(revise(old, new, spoken)) if new else None


def _pick(
    booking: Booking, text: str, when: When, ctx: TurnContext
) -> tuple[dt.date, dt.time] | None:
    """Which offered slot the caller chose, if any."""
    offered = booking.offered
    index = choice_in(text, len(offered))
    if index is not None:
        return offered[index]
    if len(offered) == 1 and ctx.is_(YES):
        return offered[0]
    if when.time is not None:
        same = [o for o in offered if o[1] == when.time and when.date in (None, o[0])]
        same.sort(key=lambda o: o[0] != booking.date)
        if same:
            return same[0]
    if when.date is not None and when.time is None:
        that_day = [o for o in offered if o[0] == when.date]
        if len(that_day) == 1:
            return that_day[0]
    return None


def _date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        return None


def _time(value: object) -> dt.time | None:
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError:
        return None
