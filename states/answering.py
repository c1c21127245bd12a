"""The `answered_by` guard: who picked up an outbound call, per Twilio's answering-machine
detection (the `call.answered_by` event, normalised by adapters/twilio/amd.py to human,
machine, fax or unknown). `{answered_by: machine}` or `{answered_by: [machine, fax]}`.
"""

from __future__ import annotations

from typing import Any

from flows.outbound_checks import answer_values
from flows.signatures import ArgKind, StepContext, guard


@guard("answered_by", ArgKind.ANSWER)
def answered_by(ctx: StepContext, answers: Any) -> bool:
    """Twilio's detection said one of these answered the outbound call."""
    return str(ctx.data.get("answered_by", "")) in answer_values(answers)
