"""`RulesBrain`: the offline brain (no LLM) behind the engine's `Brain` port.

Each turn: classify the caller's words (`intents`), let the dialogue step the call is in
use them (`booking`, `check_cancel`, `handoff`), else act on the intent: start a task,
answer from the knowledge base (`answers`), transfer, or end the call. Tools are never run
here: a `ToolCall` is yielded, the flow runs it, `tool_result` stores the outcome and the
next `respond` reads it back to the caller (`outcomes`). State is kept per call id (`state`); call
`forget(call_id)` when a call ends (transfers and `end_call` forget it themselves).
Touches the retriever (knowledge search) and the embedder (intents), both in worker threads.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from adapters.local.brain import check_cancel, handoff, outcomes, reschedule
from adapters.local.brain.answers import MAX_ANSWER_CHARS, find_answer, spoken_answer
from adapters.local.brain.booking import BookingDialogue
from adapters.local.brain.heard import canonical
from adapters.local.brain.hours import hours_answer
from adapters.local.brain.idioms import restate
from adapters.local.brain.intents import (
    DEFAULT_THRESHOLD,
    IntentClassifier,
    IntentResult,
    asks_for_slot,
    asks_to_book,
)
from adapters.local.brain.keywords import (
    BOOK,
    CANCEL,
    CHECK,
    GOODBYE,
    GREETING,
    HUMAN,
    NO,
    QUESTION,
    THANKS,
    YES,
    asked_part,
    more_follows,
    yes_then_bye,
    yes_then_soft_bye,
)
from adapters.local.brain.replies import (
    DONT_KNOW,
    HOW_CAN_I_HELP,
    NOT_CAUGHT,
    Out,
    TurnContext,
    anything_else,
    ask,
    heard_question,
    offer_help,
    say,
)
from adapters.local.brain.slots import emergency_words, reason_in
from adapters.local.brain.state import CallState, CallStates, Stage
from adapters.local.brain.when import parse_date
from adapters.local.embeddings import LocalMiniLMEmbedder
from engine.ports import BrainOutput, ToolCall, ToolOutcome, Turn
from flows.model import Settings
from knowledge.embeddings import Embedder
from knowledge.errors import KnowledgeError
from knowledge.retrieval import Retriever
from tools.calendar import BusinessCalendar
from tools.phone import try_normalize_phone
from tools.registry import ToolRegistry

log = logging.getLogger("dialflow.brain.rules")

DEFAULT_TIMEZONE = "America/New_York"
_TASK_STAGES = frozenset(
    {Stage.ASK, Stage.CONFIRM_BOOK, Stage.AMEND, Stage.CHOOSE_CANCEL, Stage.CONFIRM_CANCEL,
     Stage.CHOOSE_MOVE, Stage.ASK_MOVE, Stage.CONFIRM_MOVE}
)
_CONFIRM_STAGES = frozenset({Stage.CONFIRM_BOOK, Stage.CONFIRM_CANCEL, Stage.CONFIRM_MOVE})
_MAX_MISSES = 3
_REPEAT = re.compile(
    r"^(sorry|pardon|what|huh|come again|say that again|(can|could) you (repeat|say) that"
    r"( again)?|repeat that)\W*$",
    re.IGNORECASE,
)
#: Stages waiting only for a yes, a no or a choice.
_YES_NO_STAGES = frozenset({Stage.OFFER_HELP, Stage.OFFER_BOOK, Stage.ANYTHING_ELSE})
_TODAY = re.compile(r"\b(today|right now|now|asap|as soon as possible|right away|tonight)\b",
                    re.IGNORECASE)
#: An emergency supposed, not had: "If I have a dental emergency at night, who do I call?"
#: is a question about what to do, answered from the knowledge base.
_SUPPOSE = re.compile(r"^(if|in case|what if|suppose|say)\b|\bif (i|we|my \w+) (ever |were to )?"
                      r"(have|had|get|got|need|needed)\b.*\b(who|what|where|how)\b", re.I)
#: A question that leaves out what it asks about, for the same again on another day.
_FOLLOW_UP = re.compile(
    r"^\W*((and|ok|okay|so|hmm|right|alright),? )*((what|how) about|and (on|for))\b", re.I)
_OPEN_QUESTION = re.compile(r"^(are|is) (you|the office|it|the clinic)\b.*\bopen\b", re.I)
_ASKS = re.compile(
    r"\?\s*$|^(what|when|where|who|why|how|which|do|does|did|is|are|can|could|will|would)\b",
    re.IGNORECASE,
)


def _no_mark(stage: str) -> None:
    """`Turn.mark` for engines whose turns do not report latency stages."""


class RulesBrain:
    """Retrieval + intents + slot filling; implements `engine.ports.Brain`.

    One instance serves every call of a process (state is kept per call id).
    `retriever` answers questions (None: every question gets the don't-know line).
    `embedder` classifies intents (default: the packaged MiniLM, loaded once per process).
    `timezone` and `now` (a clock returning an aware datetime) resolve "tomorrow at 3".
    `calendar` (optional) lets bookings outside opening hours be caught before confirming;
    `check_slots` (on when built from settings) checks a slot is free before confirming it.
    """

    name = "rules"

    def __init__(
        self,
        retriever: Retriever | None,
        *,
        embedder: Embedder | None = None,
        timezone: str = DEFAULT_TIMEZONE,
        now: Callable[[], dt.datetime] | None = None,
        calendar: BusinessCalendar | None = None,
        intent_threshold: float = DEFAULT_THRESHOLD,
        max_answer_chars: int = MAX_ANSWER_CHARS,
        max_calls: int = 1000,
        check_slots: bool = False,
    ) -> None:
        self.retriever = retriever
        self.classifier = IntentClassifier(
            embedder or LocalMiniLMEmbedder(), threshold=intent_threshold
        )
        self.timezone = ZoneInfo(timezone)
        self.now = now or (lambda: dt.datetime.now(self.timezone))
        self.calendar = calendar
        self.booking = BookingDialogue(calendar, check_slots=check_slots)
        self.max_answer_chars = max_answer_chars
        self._states = CallStates(max_calls)

    @classmethod
    def from_flow(cls, settings: Settings, env: Mapping[str, str], *,
                  retriever: Retriever | None = None, registry: ToolRegistry | None = None,
                  **_: Any) -> RulesBrain:
        """The provider convention (engine.providers): `settings.business`, and
        `settings.knowledge` unless a retriever is given."""
        return cls.from_settings({"business": settings.business, "knowledge": settings.knowledge},
                                 retriever=retriever)

    @classmethod
    def from_settings(
        cls,
        settings: Mapping[str, Any] | None,
        *,
        base_dir: str | Path | None = None,
        retriever: Retriever | None = None,
        now: Callable[[], dt.datetime] | None = None,
    ) -> RulesBrain:
        """From flows.yaml's `settings`: `knowledge` for the retriever (unless one is given)
        and `business` for the time zone and opening hours."""
        settings = settings or {}
        business = settings.get("business")
        if retriever is None:
            retriever = Retriever.from_settings(settings.get("knowledge"), base_dir=base_dir)
        calendar = BusinessCalendar.from_settings(business) if business else None
        timezone = str((business or {}).get("timezone") or DEFAULT_TIMEZONE)
        return cls(retriever, timezone=timezone, now=now, calendar=calendar, check_slots=True)

    def warm_up(self) -> None:
        """Load the model and embed the intent examples now, not on the first call."""
        self.classifier.warm_up()

    async def warm(self) -> None:
        """`warm_up` in a worker thread (the server calls this at start-up)."""
        await asyncio.to_thread(self.warm_up)

    # --- the Brain port ----------------------------------------------------------------

    tentative_ok = True  # a speculative turn's state is put back if it is dropped

    async def respond(self, turn: Turn) -> AsyncIterator[BrainOutput]:
        """The reply to `turn`, one sentence at a time, maybe ending with a tool call."""
        if turn.tentative is not None:
            turn.tentative.restore_on_drop(self._states.entries, turn.call_id)
            turn.tentative.restore_on_drop(self._states.before, turn.call_id)
        state = self._states.get(turn.call_id)
        if state.pending is not None and state.outcome is not None:
            outputs = self._after_tool(state, turn)
        else:
            if self._states.rewind(turn.call_id, turn.joins):  # the caller went on: the
                state = self._states.get(turn.call_id)  # reply to their first words is void
            self._states.remember_before(turn.call_id, turn.text)
            if state.stage == Stage.WAIT_TOOL:
                # The tool never ran (the reply was interrupted before the flow got to it):
                # back to the question that led to it, e.g. the confirmation.
                state.stage = state.before_tool
                state.leaving = False
            state.pending = state.outcome = None
            outputs = await self._reply(state, turn)
        for item in outputs:
            if isinstance(item, ToolCall) and item.name in (handoff.TRANSFER, handoff.END_CALL):
                self.forget(turn.call_id)
            yield item

    def tool_result(self, call_id: str, tool: ToolCall, outcome: ToolOutcome) -> None:
        """Keep a tool's outcome for the next `respond` of the call that asked for it."""
        state = self._states.waiting_for(call_id, tool)
        if state is None:
            log.warning("call %s: tool result for %s matches no waiting tool call", call_id,
                        tool.name)
            return
        state.outcome = outcome

    def forget(self, call_id: str) -> None:
        """Drop everything remembered about a call."""
        self._states.forget(call_id)

    # --- turns -------------------------------------------------------------------------

    def _context(self, turn: Turn, text: str, intent: IntentResult) -> TurnContext:
        moment = self.now()
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.timezone)
        return TurnContext(
            text=text, intent=intent, now=moment.astimezone(self.timezone),
            caller=try_normalize_phone(turn.caller), heard=tuple(turn.heard),
        )

    def _after_tool(self, state: CallState, turn: Turn) -> list[Out]:
        ctx = self._context(turn, turn.text, IntentResult(QUESTION, 0.0, "tool"))
        return outcomes.after_tool(state, ctx, self.booking)

    async def _reply(self, state: CallState, turn: Turn) -> list[Out]:
        # one written form of what was heard ("x-ray" -> "x ray"), idioms in plain words
        # ("put me down for" -> "book me for")
        text = restate(canonical(turn.text))
        state.last_topic, state.topic = state.topic, ""
        if not text:
            return say(f"{NOT_CAUGHT} Could you say that again?")
        if _REPEAT.match(text):
            if state.question:
                return ask(state, *state.question)
            return say(turn.heard[-1] if turn.heard else "How can I help you today?")
        intent = await asyncio.to_thread(self.classifier.classify, text)
        if (intent.source == "keyword" and intent.intent == GOODBYE
                and state.stage in _CONFIRM_STAGES
                and (yes_then_soft_bye(text) or yes_then_bye(text))):
            intent = IntentResult(YES, 1.0, "keyword")  # "Great, see you then." confirms;
            state.leaving = yes_then_bye(text)  # "Yes please, bye." too, then ends the call
        elif intent.source == "keyword" and intent.intent == GOODBYE:
            return handoff.end_call()
        ctx = self._context(turn, text, intent)
        if intent.source == "keyword" and intent.intent == HUMAN:
            return handoff.transfer("the caller asked for a person")
        handled = self._by_stage(state, ctx)
        if handled is not None:
            return handled
        return await self._by_intent(state, ctx, getattr(turn, "mark", None) or _no_mark)

    def _by_stage(self, state: CallState, ctx: TurnContext) -> list[Out] | None:
        stage = state.stage
        if stage in _YES_NO_STAGES and more_follows(ctx.text):
            return None  # "No thanks. Where are you located?": the question is what counts
        if stage == Stage.ASK:
            return self.booking.on_answer(state, ctx)
        if stage == Stage.CONFIRM_BOOK:
            heard = heard_question(state, ctx.heard)
            return self.booking.on_confirm(state, ctx, heard=heard)
        if stage == Stage.AMEND:
            return self.booking.on_amend(state, ctx)
        if stage == Stage.CHOOSE_CANCEL:
            return check_cancel.on_choose(state, ctx)
        if stage == Stage.CONFIRM_CANCEL:
            heard = heard_question(state, ctx.heard)
            return check_cancel.on_confirm(state, ctx, heard=heard)
        if stage == Stage.CHOOSE_MOVE:
            return reschedule.on_choose(state, ctx, self.booking)
        if stage == Stage.ASK_MOVE:
            return reschedule.on_answer(state, ctx, self.booking)
        if stage == Stage.CONFIRM_MOVE:
            heard = heard_question(state, ctx.heard)
            return reschedule.on_confirm(state, ctx, self.booking, heard=heard)
        if stage == Stage.OFFER_HELP:
            return handoff.on_offer(state, ctx)
        if stage == Stage.OFFER_BOOK:
            if ctx.is_(YES, BOOK):
                said, state.said = state.said, ""
                return self.booking.start(state, replace(ctx, text=f"{said} {ctx.text}".strip()))
            if ctx.is_(NO):
                return anything_else(state, "All right.")
        if stage == Stage.ANYTHING_ELSE:
            if ctx.is_(NO, THANKS):
                return handoff.end_call()
            if ctx.is_(YES) and ctx.intent.source == "keyword":
                state.stage = Stage.IDLE
                return ask(state, HOW_CAN_I_HELP)
        return None

    async def _by_intent(
        self, state: CallState, ctx: TurnContext, mark: Callable[[str], None]
    ) -> list[Out]:
        intent = ctx.intent.intent
        in_task = state.stage in _TASK_STAGES
        if intent == HUMAN or (not in_task and handoff.wants_message(ctx.text)):
            return handoff.to_person(state, ctx)
        if not in_task and handoff.wants_callback(ctx.text):
            return handoff.offer_callback(state, ctx)
        if intent == GOODBYE:
            return handoff.end_call()
        moving = reschedule.REQUEST.search(ctx.text) or (
            intent == CANCEL and reschedule.RESCHEDULE.search(ctx.text))
        if moving and state.task != "reschedule":
            return reschedule.start(state, ctx)
        if intent == CANCEL and not moving and state.task != "cancel":
            return check_cancel.start_cancel(state, ctx)
        if intent == CHECK and state.task != "check":
            return check_cancel.start_check(state, ctx)
        if (intent == BOOK and not in_task and reason_in(ctx.text) == "emergency"
                and (not asks_to_book(ctx.text) or _TODAY.search(ctx.text))):
            # "My jaw is swollen and I can barely swallow.", "... can someone look at it
            # today?": the emergency guidance first (911 when it says so), then a person,
            # not "what day would you like?".
            return await self._emergency(state, ctx, mark)
        if state.last_topic == "hours" and _FOLLOW_UP.match(ctx.text):
            # "What about the following Monday, the fourth?" after an hours answer: the hours
            # of that day
            hours = hours_answer(f"are you open {ctx.text}", ctx.now, self.calendar)
            if hours is not None and parse_date(ctx.text, ctx.today) is not None:
                mark("retrieval")
                state.topic = "hours"
                return self._answered(state, hours, in_task=in_task)
        if intent == QUESTION and not in_task and asks_for_slot(ctx.text):
            intent = BOOK  # "Is Friday the 11th at 9 open for a checkup?": a slot, not hours
        if intent == BOOK:
            if state.task == "book" and in_task:
                return self._again(state)
            return self.booking.start(state, ctx)
        if (intent == QUESTION or _OPEN_QUESTION.match(ctx.text)) and intent != BOOK:
            hours = hours_answer(ctx.text, ctx.now, self.calendar)
            if hours is not None:
                mark("retrieval")
                state.topic = "hours"
                if not in_task and reason_in(ctx.text) not in (None, "emergency"):
                    # "How early can I get in tomorrow for a cleaning? I'm Dev Patel.": the
                    # hours, then the visit, keeping what was said for it
                    state.stage, state.said = Stage.OFFER_BOOK, ctx.text
                    return ask(state, *hours, "Would you like to book one?")
                return self._answered(state, hours, in_task=in_task)
        if intent == QUESTION:
            if reason_in(ctx.text) == "emergency" and not in_task and not _SUPPOSE.search(ctx.text):
                return await self._emergency(state, ctx, mark)
            return await self._knowledge(state, ctx, in_task=in_task, mark=mark)
        if intent == GREETING:
            if in_task:
                return [*say("Hi!"), *self._again(state)]
            state.stage = Stage.IDLE
            return ask(state, "Hi! How can I help you today?")
        if in_task:
            return self._not_caught(state)
        if intent == THANKS:
            return anything_else(state, "You're welcome!")
        if intent == NO:
            return anything_else(state, "All right.")
        state.stage = Stage.IDLE
        return ask(state, HOW_CAN_I_HELP)

    async def _knowledge(
        self, state: CallState, ctx: TurnContext, *, in_task: bool, mark: Callable[[str], None]
    ) -> list[Out]:
        if in_task and not _ASKS.search(ctx.text):
            # An answer that did not fit the question asked ("Free in the afternoon" for a
            # time), not a question: ask again rather than read out a fact about "free".
            return self._not_caught(state)
        hit = None
        if self.retriever is not None:
            try:
                hit = await asyncio.to_thread(find_answer, self.retriever,
                                              asked_part(ctx.text))
            except KnowledgeError:
                log.exception("knowledge search failed")
            mark("retrieval")
        if hit is not None:
            answer = spoken_answer(hit.text, ctx.text, max_chars=self.max_answer_chars)
            # "what do you charge to fix a cavity?" ... "could I get one done Thursday?"
            state.asked_about = reason_in(ctx.text) if reason_in(ctx.text) != "emergency" else None
            return self._answered(state, answer, in_task=in_task)
        if in_task:
            if _ASKS.search(ctx.text):
                return [*say(DONT_KNOW), *self._again(state)]
            return self._not_caught(state)
        state.unanswered = f"The caller asked: {ctx.text}"
        return offer_help(state, DONT_KNOW)

    def _answered(self, state: CallState, answer: list[str], *, in_task: bool) -> list[Out]:
        if in_task:
            return [*say(*answer), *self._again(state)]
        state.stage = Stage.IDLE
        return say(*answer)

    async def _emergency(
        self, state: CallState, ctx: TurnContext, mark: Callable[[str], None]
    ) -> list[Out]:
        """Pain, swelling, a broken tooth: the clinic's emergency guidance, then a person."""
        hit = None
        if self.retriever is not None:
            try:
                hit = await asyncio.to_thread(
                    find_answer, self.retriever, f"dental emergency: {ctx.text}"
                ) or await asyncio.to_thread(  # the caller's own words can hide it ("a puck")
                    find_answer, self.retriever,
                    f"dental emergency: {emergency_words(ctx.text) or 'urgent'}")
            except KnowledgeError:
                log.exception("knowledge search failed")
            mark("retrieval")
        advice = spoken_answer(hit.text, ctx.text, max_chars=self.max_answer_chars) if hit else []
        state.unanswered = f"Urgent: {ctx.text}"
        return offer_help(state, "I'm sorry to hear that.", *advice)

    def _again(self, state: CallState) -> list[Out]:
        """The pending question again: a confirmation or an offer whole, else its last line."""
        keep_all = state.stage in (Stage.CONFIRM_BOOK, Stage.CONFIRM_CANCEL, Stage.CHOOSE_CANCEL,
                                   Stage.CONFIRM_MOVE, Stage.CHOOSE_MOVE)
        keep_all = keep_all or bool(state.booking.offered)
        question = state.question if keep_all else state.question[-1:]
        return ask(state, *question)

    def _not_caught(self, state: CallState) -> list[Out]:
        state.misses += 1
        if state.misses >= _MAX_MISSES:
            state.unanswered = "The assistant could not understand the caller."
            return offer_help(state, "I'm sorry, I'm having trouble understanding.")
        return [*say(NOT_CAUGHT), *self._again(state)]
