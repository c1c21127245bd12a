"""The decisions on Twilio's callbacks for outbound calls, made where the call lives.

Each is a hook (engine/app/server/forwarding.py) that routes.py runs here or sends to the
worker that holds the call: `outbound.answered` (the placed call's webhook: a stream bound
to the call, or a goodbye for a dial nobody placed), `outbound.amd` (the answering-machine
result: posted to the call, kept for a stream yet to start, or sent on to the worker whose
stream runs the call), `outbound.status` (nobody picked up), and `outbound.claim` (between
workers only: a stream for this worker's dial started on the asking one). `claim_from` is
the asking side of that last one. Touches the desk only.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from adapters.twilio.twiml import busy
from engine.app.server.hook_answer import HookAnswer
from engine.redaction import escape_id

log = logging.getLogger("dialflow.outbound")
GONE = "Sorry, this call is no longer expected. Goodbye."
ANSWERED, AMD, STATUS, CLAIM = ("outbound.answered", "outbound.amd", "outbound.status",
                                "outbound.claim")


def add_outbound_hooks(services: Any, hooks: dict[str, Any]) -> None:
    """Put the outbound callbacks' decisions in `hooks` (the app's table)."""

    async def answered(form: dict[str, str], query: dict[str, str]) -> HookAnswer:
        call_sid, to = form.get("CallSid", ""), form.get("To", "")
        desk = services.outbound
        dial = desk.answered(query.get("dial", ""), call_sid, to) if desk else None
        if dial is None or not services.accepting:
            return HookAnswer.twiml(busy(GONE))
        if form.get("AnsweredBy"):  # synchronous detection: the result comes with the call
            desk.detected(call_sid, form["AnsweredBy"])
        return HookAnswer.stream(call_sid, to)

    async def detected(form: dict[str, str], query: dict[str, str]) -> HookAnswer:
        call_sid, answered_by = form.get("CallSid", ""), form.get("AnsweredBy", "")
        desk = services.outbound
        held = desk.held_by(call_sid) if desk is not None else None
        if held is not None and services.routing is not None:
            return await services.routing.forward(held, AMD, form, query, HookAnswer.empty())
        if desk is None or not desk.detected(call_sid, answered_by):
            log.warning("call %s: a detection result for no call we placed",
                        escape_id(call_sid))
        return HookAnswer.empty()

    async def status(form: dict[str, str], query: dict[str, str]) -> HookAnswer:
        if services.outbound is not None:
            services.outbound.status(query.get("dial", ""), form.get("CallSid", ""),
                                     form.get("CallStatus", ""))
        return HookAnswer.empty()

    async def claim(form: dict[str, str], query: dict[str, str]) -> HookAnswer:
        desk, worker = services.outbound, form.get("Worker", "")
        given = desk.hand_over(form.get("CallSid", ""), int(worker)) \
            if desk is not None and worker.isdigit() else None
        return HookAnswer.data(json.dumps(given, ensure_ascii=False) if given is not None else "")

    hooks.update({ANSWERED: answered, AMD: detected, STATUS: status, CLAIM: claim})


def _checked(data: Any) -> dict[str, Any] | None:
    if not isinstance(data, dict) or not isinstance(data.get("to"), str) \
            or not isinstance(data.get("vars"), dict):
        return None
    answer = data.get("answer")
    if answer is not None:
        if not (isinstance(answer, list) and len(answer) == 2
                and all(isinstance(a, str) and len(a) <= 40 for a in answer)):
            return None
        answer = (answer[0], answer[1])
    return {"to": data["to"][:20], "vars": data["vars"], "answer": answer}


async def claim_from(routing: Any, index: int, call_sid: str) -> dict[str, Any] | None:
    """Ask worker `index`, which placed the call, for its dial: `{"to", "vars", "answer"}`,
    or None (unknown there, already taken, or no answer)."""
    form = {"CallSid": call_sid, "Worker": str(routing.owners.index)}
    answer = await routing.forward(index, CLAIM, form, {}, HookAnswer.data(""))
    if answer.kind != "data" or not answer.body:
        return None
    try:
        return _checked(json.loads(answer.body))
    except ValueError:
        return None
