"""The HTTP side of outbound calls, on `dialflow serve`.

`POST /calls` lets another system place a call: `{"to": "+15551234567", "vars": {...}}` with
`Authorization: Bearer $DIALFLOW_DIAL_TOKEN` (compared in constant time; 401 without it;
the endpoint answers 404 when the variable is unset, so it is off by default). The body is
read up to 4 KB (413 beyond). Bad input is a 400 with one line; a Twilio refusal a 502.
`POST /webhook/outbound` (Twilio, signed like the voice webhook) answers the placed call
with `<Connect><Stream>` bound to its CallSid and the called number, exactly as an inbound
call; `POST /webhook/outbound/amd` (signed) delivers the answering-machine result and
`POST /webhook/outbound/status` (signed) says when nobody picked up (busy, no-answer, …).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from adapters.twilio.dialing import DialError
from adapters.twilio.signature import SignatureRejected
from adapters.twilio.twiml import busy
from engine.app.outbound.call_vars import VarError
from engine.app.outbound.desk import AMD_PATH, STATUS_PATH, WEBHOOK_PATH
from engine.app.server.webhook_form import read_form, stream_answer
from engine.redaction import escape_id

log = logging.getLogger("dialflow.outbound")
MAX_BODY = 4096
GONE = "Sorry, this call is no longer expected. Goodbye."


def authorized(header: str, token: str) -> bool:
    """`Authorization: Bearer <token>`, compared in constant time."""
    scheme, _, given = (header or "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


async def _body(request: Request) -> bytes | None:
    """At most MAX_BODY bytes, or None when the body is larger."""
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            return None
    return bytes(data)


def add_outbound_routes(app: FastAPI, services: Any, token: str | None) -> None:
    @app.post("/calls")
    async def place(request: Request) -> Response:
        if not token:
            return JSONResponse({"error": "not found"}, status_code=404)
        if not authorized(request.headers.get("authorization", ""), token):
            return JSONResponse({"error": "a valid bearer token is needed"}, status_code=401,
                                headers={"WWW-Authenticate": "Bearer"})
        desk = services.outbound
        if desk is None:
            return JSONResponse({"error": "outbound calls need Twilio credentials and "
                                 "DIALFLOW_PUBLIC_URL"}, status_code=503)
        body = await _body(request)
        if body is None:
            return JSONResponse({"error": f"the body is over {MAX_BODY} bytes"}, 413)
        try:
            data = json.loads(body or b"null")
            if not isinstance(data, dict) or not isinstance(data.get("to"), str):
                raise ValueError
            given = data.get("vars") or {}
            if not isinstance(given, dict):
                raise ValueError
        except ValueError:
            return JSONResponse({"error": 'send JSON like {"to": "+15551234567", "vars": '
                                 '{"patient_name": "Ana"}}'}, status_code=400)
        try:
            dial = await desk.dial(data["to"], given)
        except (VarError, DialError) as exc:
            status = 400 if isinstance(exc, VarError) or "E.164" in str(exc) else 502
            return JSONResponse({"error": str(exc)}, status_code=status)
        return JSONResponse({"call_sid": dial.call_sid}, status_code=201)

    def _checked(request: Request, form: Any) -> bool:
        try:
            services.signatures.check_webhook(
                scheme=request.url.scheme, path=request.url.path, query=request.url.query,
                headers=request.headers, form=form, call_id=str(form.get("CallSid", "")),
                peer=request.client.host if request.client else None)
        except SignatureRejected:
            services.metrics.error("signature")
            return False
        return True

    @app.post(WEBHOOK_PATH)
    async def answered(request: Request) -> Response:
        form = await read_form(request)
        if isinstance(form, Response):
            return form
        if not _checked(request, form):
            return Response("forbidden", status_code=403)
        call_sid, to = str(form.get("CallSid", "")), str(form.get("To", ""))
        desk = services.outbound
        dial = desk.answered(request.query_params.get("dial", ""), call_sid, to) if desk else None
        if dial is None or services.at_capacity or not services.accepting:
            return Response(busy(GONE), media_type="application/xml")
        if form.get("AnsweredBy"):  # synchronous detection: the result comes with the call
            desk.detected(call_sid, str(form["AnsweredBy"]))
        return stream_answer(request, services.signatures, call_sid, to)

    @app.post(AMD_PATH)
    async def detected(request: Request) -> Response:
        form = await read_form(request)
        if isinstance(form, Response):
            return form
        if not _checked(request, form):
            return Response("forbidden", status_code=403)
        call_sid = str(form.get("CallSid", ""))
        desk = services.outbound
        if desk is None or not desk.detected(call_sid, str(form.get("AnsweredBy", ""))):
            log.warning("call %s: a detection result for no call we placed",
                        escape_id(call_sid))
        return Response(status_code=204)

    @app.post(STATUS_PATH)
    async def status(request: Request) -> Response:
        form = await read_form(request)
        if isinstance(form, Response):
            return form
        if not _checked(request, form):
            return Response("forbidden", status_code=403)
        if services.outbound is not None:
            services.outbound.status(request.query_params.get("dial", ""),
                                     str(form.get("CallSid", "")),
                                     str(form.get("CallStatus", "")))
        return Response(status_code=204)
