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
and log escaped ids only. A request for a call not parked here gets `<Hangup/>`, and so does
a human who answers after the flow left the state that rang them (its timer gave up).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import Response

from adapters.twilio.signature import SignatureRejected
from adapters.twilio.twiml import hang_up, say_only
from adapters.twilio.warm import CALLER_GONE, STATUS_PATH, WHISPER_PATH, dial_outcome
from engine.app.server.services import Services
from engine.app.server.webhook_form import read_form, stream_answer
from engine.redaction import escape_id

log = logging.getLogger("dialflow.server")
XML = "application/xml"


def add_transfer_hooks(app: FastAPI, services: Services) -> None:
    """Mount the whisper and dial-report webhooks on `app`."""

    async def checked_form(request: Request) -> dict[str, str] | Response:
        form = await read_form(request)
        if isinstance(form, Response):
            return form
        peer = request.client.host if request.client else None
        try:
            services.signatures.check_webhook(
                scheme=request.url.scheme, path=request.url.path, query=request.url.query,
                headers=request.headers, form=form, call_id=str(form.get("CallSid", "")),
                peer=peer)
        except SignatureRejected:
            services.metrics.error("signature")
            return Response("forbidden", status_code=403)
        return {k: str(v)[:200] for k, v in form.items()}

    @app.post(WHISPER_PATH)
    async def whisper(request: Request) -> Response:
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        parent = request.query_params.get("parent", "")[:64]
        entry = services.warm.get(parent)
        if entry is None or entry.stream.call is None:
            log.warning("call %s: whisper asked for a call with no warm transfer here",
                        escape_id(parent))
            return Response(hang_up(), media_type=XML)  # the human's leg: nobody to meet
        call = entry.stream.call
        if call.ended or (entry.state and call.state != entry.state):
            log.warning("call %s: the human answered after the flow moved on (%s); not "
                        "connecting", entry.stream.call_id, escape_id(call.state))
            return Response(hang_up(), media_type=XML)
        entry.answered = True
        log.info("call %s: the human answered; whispering the summary", entry.stream.call_id)
        call.post("transfer.answered")
        return Response(say_only(entry.whisper), media_type=XML)

    @app.post(STATUS_PATH)
    async def dial_status(request: Request) -> Response:
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        call_sid = form.get("CallSid", "")
        entry = services.warm.get(call_sid)
        dial, status = form.get("DialCallStatus", ""), form.get("CallStatus", "")
        if entry is None or entry.stream.call is None or entry.stream.call.ended:
            log.info("call %s: dial ended (%s) for a call no longer here", escape_id(call_sid),
                     escape_id(dial, 40))
            return Response(hang_up(), media_type=XML)
        call = entry.stream.call
        event, data = dial_outcome(dial)
        log.info("call %s: the dial ended: %s", entry.stream.call_id, escape_id(dial, 40))
        if status in CALLER_GONE:
            call.post("call.hangup")
            return Response(hang_up(), media_type=XML)
        if event == "transfer.completed":
            call.post(event)
            return Response(hang_up(), media_type=XML)
        entry.outcome = (event, data)  # posted when the caller's stream is back
        return stream_answer(request, services.signatures, call_sid, entry.caller)
