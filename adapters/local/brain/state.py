"""What the rules brain remembers about one call, and the per-process table of calls.

`CallState` holds the task under way (book, check, cancel, message), the stage of its little
dialogue, the booking draft, the appointments found, the last question asked and the tool
call waiting for its outcome. `CallStates` keys them by call id, forgets a call on request
and drops the least recently used beyond `max_calls` so a forgotten `forget` cannot leak; it
also keeps, per call, the state from before the last turn answered, so a turn the caller
goes on with (`Turn.joins`) is answered afresh from there (`rewind`).
Pure data; touches nothing.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from engine.ports import ToolCall, ToolOutcome


class Stage(StrEnum):
    IDLE = "idle"
    ASK = "ask"  # a booking detail was asked for (`CallState.asked`)
    CONFIRM_BOOK = "confirm_book"
    AMEND = "amend"  # the caller said no to the booking confirmation
    CHOOSE_CANCEL = "choose_cancel"
    CONFIRM_CANCEL = "confirm_cancel"
    CHOOSE_MOVE = "choose_move"  # which appointment to reschedule
    ASK_MOVE = "ask_move"  # the new day or time (`CallState.asked`)
    CONFIRM_MOVE = "confirm_move"
    OFFER_HELP = "offer_help"  # "take a message or connect you?"
    OFFER_BOOK = "offer_book"  # "would you like to book one?"
    ANYTHING_ELSE = "anything_else"
    WAIT_TOOL = "wait_tool"


#: Booking details in the order they are asked for.
BOOKING_SLOTS = ("date", "time", "name", "phone")


@dataclass
class Booking:
    """The appointment being put together; None = not known yet."""

    date: dt.date | None = None
    time: dt.time | None = None
    name: str | None = None
    phone: str | None = None
    reason: str | None = None
    #: Free (date, time) pairs the booking tool offered after refusing a slot.
    offered: list[tuple[dt.date, dt.time]] = field(default_factory=list)
    #: The (date, time) `check_availability` last found free (checked before confirming).
    checked: tuple[dt.date, dt.time] | None = None
    #: A day asked for that the office is closed on: "then Monday" is the Monday nearest it.
    refused_day: dt.date | None = None

    def missing(self) -> str | None:
        """The first detail still needed, or None when the booking can be confirmed."""
        for slot in BOOKING_SLOTS:
            if getattr(self, slot) is None:
                return slot
        return None

    def args(self, default_reason: str) -> dict[str, Any]:
        """The `book_appointment` arguments (call only once nothing is missing)."""
        assert self.date is not None and self.time is not None
        return {
            "name": self.name,
            "phone": self.phone,
            "date": self.date.isoformat(),
            "time": f"{self.time:%H:%M}",
            "reason": self.reason or default_reason,
        }


@dataclass
class CallState:
    task: str | None = None  # "book", "check", "cancel", "reschedule", "message"
    stage: Stage = Stage.IDLE
    asked: str | None = None  # the booking detail last asked for
    misses: int = 0  # answers in a row that did not fit the question
    booking: Booking = field(default_factory=Booking)
    appointments: list[dict[str, Any]] = field(default_factory=list)
    target: dict[str, Any] | None = None  # the appointment to cancel
    hint_date: dt.date | None = None  # a day named in the cancel request
    hint_time: dt.time | None = None
    hint_reason: str | None = None  # a visit reason named in the cancel request
    rebook: bool = False  # the cancel request was a reschedule: offer a new time after it
    keep_time: bool = False  # a move "to Friday, same time": the new slot keeps the old time
    keep_day: bool = False  # a move "to 3 PM, same day": the new slot keeps the old day
    question: tuple[str, ...] = ()  # the sentences of the last question asked
    unanswered: str = ""  # the last question the knowledge base could not answer
    said: str = ""  # a question about a visit answered before the offer to book it
    pending: ToolCall | None = None
    outcome: ToolOutcome | None = None
    before_tool: Stage = Stage.IDLE  # where to go back to if the tool never runs
    before_checked: tuple[str, ...] = ()  # sentences to say after the availability check
    tool_seq: int = 0
    leaving: bool = False  # "Yes please, bye" at a confirmation: after the tool, end the call
    topic: str = ""  # what the last answer was about ("hours"), for "what about Monday?"
    last_topic: str = ""  # `topic` as the previous turn left it
    asked_about: str | None = None  # the visit reason of the last question answered

    def reset_task(self) -> None:
        """Back to no task (after it finished or was abandoned); the call goes on."""
        self.task, self.stage, self.asked, self.misses = None, Stage.IDLE, None, 0
        self.booking = Booking()
        self.appointments, self.target = [], None
        self.hint_date = self.hint_time = None
        self.hint_reason = None
        self.rebook = False
        self.keep_time = self.keep_day = False


class CallStates:
    """`CallState` per call id, least recently used dropped beyond `max_calls`."""

    def __init__(self, max_calls: int = 1000) -> None:
        self.max_calls = max_calls
        self._states: OrderedDict[str, CallState] = OrderedDict()
        self.before: dict[str, tuple[str, CallState]] = {}  # (turn text, state before it)

    def get(self, call_id: str) -> CallState:
        state = self._states.get(call_id)
        if state is None:
            state = self._states[call_id] = CallState()
            while len(self._states) > self.max_calls:
                self.before.pop(self._states.popitem(last=False)[0], None)
        else:
            self._states.move_to_end(call_id)
        return state

    def peek(self, call_id: str) -> CallState | None:
        return self._states.get(call_id)

    @property
    def entries(self) -> OrderedDict[str, CallState]:
        """The states by call id (a speculative turn restores its entry if dropped)."""
        return self._states

    def waiting_for(self, call_id: str, call: ToolCall) -> CallState | None:
        """Call `call_id`'s state when `call` is its pending tool call (by id, else by name
        and arguments)."""
        state = self._states.get(call_id)
        pending = state.pending if state is not None else None
        if pending is None:
            return None
        same = (pending.id == call.id if call.id
                else (pending.name, pending.args) == (call.name, call.args))
        return state if same else None

    def remember_before(self, call_id: str, text: str) -> None:
        """The call is about to answer `text`: keep its state as it is now."""
        self.before[call_id] = (text, copy.deepcopy(self.get(call_id)))

    def rewind(self, call_id: str, joins: str) -> bool:
        """Put back the state from before the turn `joins` (the caller went on with it and
        the reply to it was never heard); False when that is not the last turn answered."""
        saved = self.before.get(call_id)
        if not joins or saved is None or saved[0] != joins:
            return False
        self._states[call_id] = copy.deepcopy(saved[1])
        return True

    def forget(self, call_id: str) -> None:
        self._states.pop(call_id, None)
        self.before.pop(call_id, None)

    def __contains__(self, call_id: object) -> bool:
        return call_id in self._states

    def __len__(self) -> int:
        return len(self._states)
