"""The two webhooks of a warm transfer: the whisper and the dial's report.

- `POST /webhook/transfer/whisper?parent=CA…`: the `<Number url>` Twilio fetches when the
  human answers; its TwiML (`<Say>` the summary) is played to the human only. The call
  gets `transfer.answered`.
- `POST /webhook/transfer/status`: the `<Dial action>` Twilio requests when the dial ends,
  with `DialCallStatus`. Completed: the human had the call, Twilio hangs up. Busy, no
  answer, canceled, failed with the caller still there: the answer is a new
  `<Connect><Stream>` bound to the same CallSid, and the parked call posts the outcome once
  that stream starts (adapters/twilio/warm.py, bridge/parking.py). The caller gone:
  `call.hangup`.

Both check `X-Twilio-Signature` like the voice webhook (403 otherwise), read a bounded form
and log escaped ids only. Under `serve --workers N` the worker Twilio reached sends the
checked form to the worker that holds the call (`decide`, forwarding.py) and answers with its
decision. A whisper for a call parked nowhere gets `<Hangup/>` (the human's leg), and so
does a human who answers after the flow left the state that rang them (its timer gave up);
a dial report for a call no worker holds any more ends the call, with a goodbye when the
caller is still on the line and nobody took the call.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import Response

from adapters.twilio.twiml import hang_up, say_only
from adapters.twilio.warm import CALLER_GONE, STATUS_PATH, WHISPER_PATH, dial_outcome
from engine.app.server.forwarding import decide
from engine.app.server.hook_answer import HookAnswer
from engine.app.server.services import Services
from engine.app.server.webhook_form import signed_form
from engine.redaction import escape_id

log = logging.getLogger("dialflow.server")
WHISPER, STATUS = "transfer.whisper", "transfer.status"


def add_transfer_hooks(app: FastAPI, services: Services) -> None:
    """Mount the whisper and dial-report webhooks on `app`, and their decisions on
    `app.state.hooks` (run here or for another worker)."""

    async def whisper(form: dict[str, str], query: dict[str, str]) -> HookAnswer:
        parent = query.get("parent", "")[:64]
        entry = services.warm.get(parent)
        if entry is None or entry.stream.call is None:
            log.warning("call %s: whisper asked for a call with no warm transfer here",
                        escape_id(parent))
            return HookAnswer.twiml(hang_up())  # the human's leg: nobody to meet
        call = entry.stream.call
        if call.ended or (entry.state and call.state != entry.state):
            log.warning("call %s: the human answered after the flow moved on (%s); not "
                        "connecting", entry.stream.call_id, escape_id(call.state))
            return HookAnswer.twiml(hang_up())
        entry.answered = True
        log.info("call %s: the human answered; whispering the summary", entry.stream.call_id)
        call.post("transfer.answered")
        return HookAnswer.twiml(say_only(entry.whisper))

    async def dial_status(form: dict[str, str], query: dict[str, str]) -> HookAnswer:
        call_sid = form.get("CallSid", "")
        entry = services.warm.get(call_sid)
        dial, status = form.get("DialCallStatus", ""), form.get("CallStatus", "")
        if entry is None or entry.stream.call is None or entry.stream.call.ended:
            log.info("call %s: dial ended (%s) for a call no longer here", escape_id(call_sid),
                     escape_id(dial, 40))
            if status in CALLER_GONE or dial_outcome(dial)[0] == "transfer.completed":
                return HookAnswer.twiml(hang_up())
            return HookAnswer.lost()  # the caller waits for nobody: say goodbye
        call = entry.stream.call
        event, data = dial_outcome(dial)
        log.info("call %s: the dial ended: %s", entry.stream.call_id, escape_id(dial, 40))
        if status in CALLER_GONE:
            call.post("call.hangup")
            return HookAnswer.twiml(hang_up())
        if event == "transfer.completed":
            call.post(event)
            return HookAnswer.twiml(hang_up())
        entry.outcome = (event, data)  # posted when the caller's stream is back
        return HookAnswer.stream(call_sid, entry.caller)

    hooks = app.state.hooks
    hooks.update({WHISPER: whisper, STATUS: dial_status})

    @app.post(WHISPER_PATH)
    async def whisper_hook(request: Request) -> Response:
        form = await signed_form(request, services.signatures, services.metrics)
        if isinstance(form, Response):
            return form
        query = {"parent": request.query_params.get("parent", "")[:64]}
        answer = await decide(services, hooks, (f"call:{query['parent']}",), WHISPER, form, query,
                              fallback=HookAnswer.twiml(hang_up()))
        return answer.render(request, services.signatures)

    @app.post(STATUS_PATH)
    async def status_hook(request: Request) -> Response:
        form = await signed_form(request, services.signatures, services.metrics)
        if isinstance(form, Response):
            return form
        gone = form.get("CallStatus", "") in CALLER_GONE
        answer = await decide(services, hooks, (f"call:{form.get('CallSid', '')}",), STATUS,
                              form, {},
                              fallback=HookAnswer.twiml(hang_up()) if gone
                              else HookAnswer.lost())
        return answer.render(request, services.signatures)
