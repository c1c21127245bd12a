"""Leaving the brain's hands: transfer to a person, end the call, or take a message.

`transfer_to_human` and `end_call` are not tools: the flow reacts to those names (escalating
says "please hold" and transfers; goodbye says goodbye and hangs up), so no sentence goes
before them. A message is the `escalate_to_human` tool, which records a call-back ticket.
Touches only the `CallState` it is given.
"""

from __future__ import annotations

import re

from adapters.local.brain.keywords import HUMAN, NO, YES
from adapters.local.brain.replies import (
    Out,
    ToolAnswer,
    TurnContext,
    anything_else,
    offer_help,
    use_tool,
)
from adapters.local.brain.slots import choice_in
from adapters.local.brain.state import CallState
from engine.ports import Sentence, ToolCall

TRANSFER, END_CALL, MESSAGE_TOOL = "transfer_to_human", "end_call", "escalate_to_human"
_MESSAGE = re.compile(r"\b(message|call (me )?back|callback)\b")
_CONNECT = re.compile(r"\b(connect|someone|somebody|person|team|transfer|human|staff|talk|speak|"
                      r"put me through)\b")


#: A new question in answer to the offer: it starts a sentence with a question word.
_NEW_QUESTION = re.compile(
    r"(?:^|[.,!?]\s*)(?:is|are|do|does|what|where|when|how|which|who|can you tell)\b[^?]*\?")
_PUT_THROUGH = re.compile(r"\b(connect|transfer|put me through|speak|talk|message)\b")


def transfer(reason: str, *before: str) -> list[Out]:
    return [*(Sentence(t) for t in before), ToolCall(TRANSFER, {"reason": reason})]


def end_call() -> list[Out]:
    return [ToolCall(END_CALL, {})]


_LEAVE_MESSAGE = re.compile(r"\b(take|leave) (a |my )?message\b")


def wants_message(text: str) -> bool:
    """"Please take a message", "can I leave a message for Dr. Chen?"."""
    return bool(_LEAVE_MESSAGE.search(text.lower()))


#: Asking to be called back ("can someone call me back about ...?", "have the dentist give
#: me a ring"): a message for the team, whatever else the words sound like. Not "call me a
#: taxi".
_CALL_ME_BACK = re.compile(
    r"\b(call|ring|phone) me back\b|\bget back to me\b|\bgive me a (call|ring)\b|"
    r"\b(someone|somebody|anyone|anybody|the (dentist|doctor|office|hygienist|team|front desk)|"
    r"dr\.? \w+|doctor \w+)( from [a-z ]+?)? (please )?(to |can |could |will |would |)"
    r"(call|ring|phone) me\b(?! an?\b)|"
    r"\b(call|ring|phone) me (later|today|tomorrow|tonight|when|about|regarding|on|at|after)\b"
)


def wants_callback(text: str) -> bool:
    """"Can someone from the office call me back about my treatment plan?"."""
    return bool(_CALL_ME_BACK.search(text.lower()))


def offer_callback(state: CallState, ctx: TurnContext) -> list[Out]:
    """A call-back is a message for the team: offer it (or a person now)."""
    state.unanswered = f"The caller asked to be called back: {ctx.text}"[:300]
    return offer_help(state, "Sure, someone from our team can call you back.")


def to_person(state: CallState, ctx: TurnContext) -> list[Out]:
    """A request for the team: "please take a message" leaves one, anything else transfers."""
    if wants_message(ctx.text):
        state.unanswered = state.unanswered or f"The caller said: {ctx.text}"[:300]
        return take_message(state, ctx)
    return transfer("the caller asked for a person")


def on_offer(state: CallState, ctx: TurnContext) -> list[Out] | None:
    """The answer to "take a message, or connect you?"; None when it is neither."""
    words = ctx.text.lower()
    if _NEW_QUESTION.search(words) and not _PUT_THROUGH.search(words):
        return None  # "Is Portuguese spoken by any of your staff?": a question, not a choice
    picked = choice_in(words, 2)  # "the first one": a message; "the second": a person
    if _MESSAGE.search(words) or picked == 0:
        return take_message(state, ctx)
    if ctx.is_(HUMAN, YES) or _CONNECT.search(words) or picked == 1:
        topic = state.unanswered or "the caller asked for a person"
        return transfer(topic[:200])
    if ctx.is_(NO) or re.search(r"\b(neither|nothing|no thanks)\b", words):
        return anything_else(state, "All right.")
    return None


def take_message(state: CallState, ctx: TurnContext) -> list[Out]:
    if ctx.caller is None:
        return transfer(
            "message without a callback number",
            "I'm sorry, I can't take a message without a number to call you back.",
        )
    summary = state.unanswered or "The caller asked to be called back."
    state.task = "message"
    return use_tool(
        state, MESSAGE_TOOL,
        {"reason": "message for the team", "summary": summary},
        "Sure, I'll pass that on to our team.",
    )


def after_message(state: CallState, answer: ToolAnswer) -> list[Out]:
    if answer.ok:
        steps = str(answer.data.get("next_steps") or
                    "Someone from our team will call you back within one business day.")
        state.unanswered = ""
        return anything_else(state, steps)
    state.reset_task()
    return transfer("taking a message failed", "I'm sorry, I couldn't take the message.")
