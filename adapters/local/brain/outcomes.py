"""What a tool's outcome turns into in the rules brain: each tool's answer goes back to the
dialogue that asked for it (`booking`, `check_cancel`, `reschedule`, `handoff`), and a task
the caller confirmed with a goodbye ("Yes please, bye.") ends the call after its result
instead of asking "anything else?". Pure dialogue logic on the call's `CallState`.
"""

from __future__ import annotations

from adapters.local.brain import check_cancel, handoff, reschedule
from adapters.local.brain.booking import AVAILABILITY_TOOL, BOOK_TOOL, BookingDialogue
from adapters.local.brain.replies import Out, TurnContext, anything_else, unpack
from adapters.local.brain.state import CallState, Stage
from engine.ports import Sentence


def after_tool(state: CallState, ctx: TurnContext, booking: BookingDialogue) -> list[Out]:
    """The reply to the pending tool call's outcome (both are cleared)."""
    outputs = _dispatch(state, ctx, booking)
    if state.leaving:  # the caller said goodbye with their yes
        outputs = _and_goodbye(state, outputs)
    return outputs


def _dispatch(state: CallState, ctx: TurnContext, booking: BookingDialogue) -> list[Out]:
    call, outcome = state.pending, state.outcome
    assert call is not None and outcome is not None
    state.pending = state.outcome = None
    answer = unpack(outcome)
    if call.name == BOOK_TOOL:
        return booking.after_tool(state, answer, ctx)
    if call.name == AVAILABILITY_TOOL:
        return booking.after_check(state, answer, ctx)
    if call.name == check_cancel.CHECK_TOOL and state.task == "reschedule":
        return reschedule.after_check(state, answer, ctx, booking)
    if call.name == reschedule.MOVE_TOOL:
        return reschedule.after_move(state, answer, ctx)
    if call.name == check_cancel.CHECK_TOOL:
        return check_cancel.after_check(state, answer, ctx)
    if call.name == check_cancel.CANCEL_TOOL:
        return check_cancel.after_cancel(state, answer, ctx)
    if call.name == handoff.MESSAGE_TOOL:
        return handoff.after_message(state, answer)
    return anything_else(state)


def _and_goodbye(state: CallState, outputs: list[Out]) -> list[Out]:
    """After the task the caller said goodbye to with their yes: its result, then the end
    (not "anything else?"); a task that failed keeps its offer of help."""
    state.leaving = False
    if state.stage != Stage.ANYTHING_ELSE or not outputs or not isinstance(outputs[-1], Sentence):
        return outputs
    return [*outputs[:-1], *handoff.end_call()]
