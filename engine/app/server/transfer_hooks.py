"""The three webhooks of a warm transfer: the whisper, the bridge, and the human's leg's end.

The caller is on hold on its own media stream meanwhile (adapters/twilio/warm.py says why).

- `POST /webhook/transfer/whisper?parent=CA…`: the human answered; Twilio fetches the leg's
  `Url`. The answer is `<Say>` the summary (to the human only), then `<Redirect>` to join;
  the flow gets `transfer.answered` (the caller still hears the music). A voicemail or fax
  (Twilio's `AnsweredBy` on the leg) gets `<Hangup/>` and the flow `transfer.no_answer`: no
  caller is put through to a machine.
- `POST /webhook/transfer/join?parent=CA…`: the human heard the whisper. The hold music
  stops and the human's answer is the conference, at once; the caller's call is moved there
  by REST in the background (transfer_bridge.py): `transfer.completed` when it is, else
  the human hears an apology and is hung up and the flow gets `transfer.failed`.
- `POST /webhook/transfer/status?parent=CA…`: the leg's final status. Busy, no-answer,
  canceled, failed (or completed before the bridge: the human hung up during the whisper)
  stop the hold music at once and become `transfer.busy` / `.no_answer` / `.canceled` /
  `.failed`; the caller is still on the stream, so the flow's next words reach them.

Each checks `X-Twilio-Signature` like the voice webhook (403 otherwise), reads a bounded
form (`signed_form`) and logs escaped ids only. Under `serve --workers N` the worker Twilio
reached sends the checked form to the worker holding the caller's stream (key
`call:<parent>`; `decide`, forwarding.py) and answers with that worker's decision; the
caller's stream never moves. A request for a call held nowhere (or a human who answers after
the flow left the state that rang them) gets `<Hangup/>`; a status for one, 204. An owner
that died mid-way: the same answers (`fallback`).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from adapters.twilio.twiml import conference, hang_up, whisper_then_join
from adapters.twilio.warm import (
    JOIN_PATH,
    STATUS_PATH,
    WHISPER_PATH,
    Parked,
    conference_name,
    leg_outcome,
)
from engine.app.server.forwarding import decide
from engine.app.server.hook_answer import HookAnswer
from engine.app.server.services import Services
from engine.app.server.transfer_bridge import start_move
from engine.app.server.webhook_form import signed_form
from engine.redaction import escape_id

log = logging.getLogger("dialflow.server")
WHISPER, JOIN, STATUS = "transfer.whisper", "transfer.join", "transfer.status"


def _stop_hold(entry: Parked) -> None:
    speaker = getattr(entry.stream, "speaker", None)
    if speaker is not None:
        speaker.stop_hold()


def add_transfer_hooks(app: FastAPI, services: Services) -> None:
    """Mount the whisper, join and leg-status webhooks on `app`, and their decisions on
    `app.state.hooks` (run here, or for another worker that Twilio reached)."""

    def live_entry(parent: str) -> tuple[Parked, Any] | None:
        """The transfer `parent` is in and its call, if the call still waits in the state
        that rang; else None (logged)."""
        entry = services.warm.get(parent)
        call = entry.stream.call if entry is not None else None
        if entry is None or call is None or call.ended:
            log.warning("call %s: warm transfer webhook for a call not held here",
                        escape_id(parent))
            return None
        if entry.settled or (entry.state and call.state != entry.state):
            log.warning("call %s: the human answered after the flow moved on (%s); not "
                        "connecting", entry.stream.call_id, escape_id(call.state))
            return None
        return entry, call

    async def whisper(form: dict[str, str], query: dict[str, str]) -> HookAnswer:
        live = live_entry(query.get("parent", ""))
        if live is None:
            return HookAnswer.twiml(hang_up())  # the human's leg: nobody to meet
        entry, call = live
        if form.get("AnsweredBy", "").startswith(("machine", "fax")):  # Twilio's detection
            entry.outcome = "transfer.no_answer"
            _stop_hold(entry)
            log.info("call %s: a machine answered the human's phone; not connecting",
                     entry.stream.call_id)
            call.post("transfer.no_answer")
            return HookAnswer.twiml(hang_up())
        entry.answered = True
        log.info("call %s: the human answered; whispering the summary", entry.stream.call_id)
        call.post("transfer.answered")  # a flow may note it; the caller is not moved yet
        return HookAnswer.twiml(whisper_then_join(entry.whisper, entry.join_url))

    async def join(form: dict[str, str], query: dict[str, str]) -> HookAnswer:
        live = live_entry(query.get("parent", ""))
        if live is None or live[0].bridge is None:  # no leg this process's port placed
            return HookAnswer.twiml(hang_up())
        entry, call = live
        _stop_hold(entry)
        start_move(entry, call)  # the REST update runs on; the human waits in the room
        log.info("call %s: the human joins the conference; moving the caller there",
                 entry.stream.call_id)
        return HookAnswer.twiml(conference(conference_name(entry.call_sid)))

    async def leg_status(form: dict[str, str], query: dict[str, str]) -> HookAnswer:
        parent = query.get("parent", "")
        status = form.get("CallStatus", "")
        entry = services.warm.get(parent)
        call = entry.stream.call if entry is not None else None
        if (entry is None or call is None or call.ended or entry.settled
                or (entry.state and call.state != entry.state)):
            log.info("call %s: the human's leg ended (%s)", escape_id(parent),
                     escape_id(status, 40))
            return HookAnswer.empty()
        event, data = leg_outcome(status)
        entry.outcome = event
        _stop_hold(entry)  # at once: the flow's words come next
        log.info("call %s: the human's leg ended (%s): %s", entry.stream.call_id,
                 escape_id(status, 40), event)
        call.post(event, **data)
        return HookAnswer.empty()

    hooks = app.state.hooks
    hooks.update({WHISPER: whisper, JOIN: join, STATUS: leg_status})

    def route(path: str, hook: str, fallback: HookAnswer) -> None:
        async def webhook(request: Request) -> Response:
            form = await signed_form(request, services.signatures, services.metrics)
            if isinstance(form, Response):
                return form
            query = {"parent": request.query_params.get("parent", "")[:64]}
            answer = await decide(services, hooks, (f"call:{query['parent']}",), hook, form,
                                  query, fallback=fallback)
            return answer.render(request, services.signatures)

        app.post(path, name=hook)(webhook)

    route(WHISPER_PATH, WHISPER, HookAnswer.twiml(hang_up()))
    route(JOIN_PATH, JOIN, HookAnswer.twiml(hang_up()))
    route(STATUS_PATH, STATUS, HookAnswer.empty())
