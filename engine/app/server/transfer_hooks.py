"""The three webhooks of a warm transfer: the whisper, the bridge, and the human's leg's end.

The caller is on hold on its own media stream meanwhile (adapters/twilio/warm.py says why).

- `POST /webhook/transfer/whisper?parent=CA…`: the human answered; Twilio fetches the leg's
  `Url`. The answer is `<Say>` the summary (to the human only), then `<Redirect>` to join.
  A voicemail or fax (Twilio's `AnsweredBy` on the leg) gets `<Hangup/>` and the flow
  `transfer.no_answer`: no caller is put through to a machine.
- `POST /webhook/transfer/join?parent=CA…`: the human heard the whisper. The hold music
  stops, the caller's call is moved into the conference by REST, the flow gets
  `transfer.answered`, and the human's answer is the same conference. If the REST update
  fails, the human hears an apology and the flow gets `transfer.failed`.
- `POST /webhook/transfer/status?parent=CA…`: the leg's final status. Busy, no-answer,
  canceled, failed (or completed before the bridge: the human hung up during the whisper)
  stop the hold music at once and become `transfer.busy` / `.no_answer` / `.canceled` /
  `.failed`; the caller is still on the stream, so the flow's next words reach them.

Each checks `X-Twilio-Signature` like the voice webhook (403 otherwise), reads a bounded
form and logs escaped ids only. A request for a call not held here (or a human who answers
after the flow left the state that rang them) gets `<Hangup/>`.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from adapters.twilio.rest import TelephonyError
from adapters.twilio.signature import SignatureRejected
from adapters.twilio.twiml import busy, conference, hang_up, whisper_then_join
from adapters.twilio.warm import (
    JOIN_PATH,
    STATUS_PATH,
    WHISPER_PATH,
    Parked,
    conference_name,
    leg_outcome,
)
from engine.app.server.services import Services
from engine.app.server.webhook_form import read_form
from engine.redaction import escape_id

log = logging.getLogger("dialflow.server")
XML = "application/xml"
SORRY = "Sorry, the caller could not be connected. Goodbye."


def _xml(doc: str) -> Response:
    return Response(doc, media_type=XML)


def _stop_hold(entry: Parked) -> None:
    speaker = getattr(entry.stream, "speaker", None)
    if speaker is not None:
        speaker.stop_hold()


def add_transfer_hooks(app: FastAPI, services: Services) -> None:
    """Mount the whisper, join and leg-status webhooks on `app`."""

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

    async def live_entry(request: Request) -> tuple[Parked | None, Any, Any]:
        """The transfer this request is about, its call and the form, if the call still
        waits in the state that rang; else (None, None, the answer: 403 or `<Hangup/>`)."""
        form = await checked_form(request)
        if isinstance(form, Response):
            return None, None, form
        parent = request.query_params.get("parent", "")[:64]
        entry = services.warm.get(parent)
        call = entry.stream.call if entry is not None else None
        if entry is None or call is None or call.ended:
            log.warning("call %s: warm transfer webhook for a call not held here",
                        escape_id(parent))
            return None, None, _xml(hang_up())
        if entry.settled or (entry.state and call.state != entry.state):
            log.warning("call %s: the human answered after the flow moved on (%s); not "
                        "connecting", entry.stream.call_id, escape_id(call.state))
            return None, None, _xml(hang_up())
        return entry, call, form

    @app.post(WHISPER_PATH)
    async def whisper(request: Request) -> Response:
        entry, call, form = await live_entry(request)
        if entry is None:
            return form
        answered_by = form.get("AnsweredBy", "")
        if answered_by.startswith(("machine", "fax")):  # Twilio's detection on the leg
            entry.outcome = "transfer.no_answer"
            _stop_hold(entry)
            log.info("call %s: a machine answered the human's phone; not connecting",
                     entry.stream.call_id)
            call.post("transfer.no_answer")
            return _xml(hang_up())
        entry.answered = True
        log.info("call %s: the human answered; whispering the summary", entry.stream.call_id)
        return _xml(whisper_then_join(entry.whisper, entry.join_url))

    @app.post(JOIN_PATH)
    async def join(request: Request) -> Response:
        entry, call, form = await live_entry(request)
        if entry is None:
            return form
        if entry.bridge is None:  # the leg was not placed by this process's port
            return _xml(hang_up())
        entry.bridging = True  # the stream's coming `stop` is this, not a hang-up
        _stop_hold(entry)
        try:
            await entry.bridge()
        except TelephonyError as exc:
            entry.bridging, entry.outcome = False, "transfer.failed"
            call.post("transfer.failed", error=str(exc))
            return _xml(busy(SORRY))
        entry.bridging, entry.bridged, entry.outcome = False, True, "transfer.answered"
        log.info("call %s: the human and the caller are connected", entry.stream.call_id)
        call.post("transfer.answered")
        return _xml(conference(conference_name(entry.call_sid)))

    @app.post(STATUS_PATH)
    async def leg_status(request: Request) -> Response:
        form = await checked_form(request)
        if isinstance(form, Response):
            return form
        parent = request.query_params.get("parent", "")[:64]
        status = form.get("CallStatus", "")
        entry = services.warm.get(parent)
        call = entry.stream.call if entry is not None else None
        if (entry is None or call is None or call.ended or entry.settled
                or (entry.state and call.state != entry.state)):
            log.info("call %s: the human's leg ended (%s)", escape_id(parent),
                     escape_id(status, 40))
            return Response(status_code=204)
        event, data = leg_outcome(status)
        entry.outcome = event
        _stop_hold(entry)  # at once: the flow's words come next
        log.info("call %s: the human's leg ended (%s): %s", entry.stream.call_id,
                 escape_id(status, 40), event)
        call.post(event, **data)
        return Response(status_code=204)
