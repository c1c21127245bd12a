"""The `escalate_to_human` tool: record a ticket so a team member calls the caller back.

Touches the storage only (one ticket row per call of the tool).
"""

from __future__ import annotations

from typing import Annotated, Any

from tools.context import ToolContext
from tools.phone import OptionalPhone, phone_argument
from tools.registry import tool
from tools.result import ToolError
from tools.schema import text_rules

Reason = Annotated[str, text_rules(200)]  # one line, no control characters
# Line breaks allowed. Room for the whole heard conversation of a call at the default flow's
# 20-minute limit (phone speech is ~150 words, ~900 characters, a minute for both sides).
Summary = Annotated[str, text_rules(20_000, multiline=True)]


@tool
def escalate_to_human(
    ctx: ToolContext, reason: Reason, summary: Summary, callback_phone: OptionalPhone = None
) -> dict[str, Any]:
    """Hand the caller's request to a human: a team member will call them back.

    Args:
        reason: Short reason for the escalation, e.g. "billing question".
        summary: What the caller needs, with the details they gave, for the person calling back.
        callback_phone: Number to call back, only if different from the one they call from.
    """
    if callback_phone:
        number: str | None = phone_argument(callback_phone, "callback_phone")
    else:
        number = ctx.caller_e164
    if number is None:
        raise ToolError(
            "invalid_arguments",
            "The caller's number is withheld: ask for a callback number and pass it as "
            "callback_phone.",
            field="callback_phone",
        )
    ticket = ctx.storage.create_ticket(
        reason=reason.strip(), summary=summary.strip(), caller_phone=number, call_id=ctx.call_id
    )
    return {
        "ticket_id": ticket.id,
        "next_steps": (
            f"A team member from {ctx.calendar.name} will call you back at the number ending "
            f"in {number[-4:]} within one business day."
        ),
    }
