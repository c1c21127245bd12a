"""The HTTP side of outbound calls, on `dialflow serve`.

`POST /calls` lets another system place a call: `{"to": "+15551234567", "vars": {...}}` with
`Authorization: Bearer $DIALFLOW_DIAL_TOKEN` (compared in constant time; 401 without it;
the endpoint answers 404 when the variable is unset, so it is off by default). The body is
read up to 4 KB (413 beyond). Bad input is a 400 with one line; a Twilio refusal a 502.
`POST /webhook/outbound` (Twilio, signed like the voice webhook) answers the placed call
with `<Connect><Stream>` bound to its CallSid and the called number, exactly as an inbound
call; `POST /webhook/outbound/amd` (signed) delivers the answering-machine result and
`POST /webhook/outbound/status` (signed) says when nobody picked up (busy, no-answer, …).
Under `serve --workers N` a callback is decided by the worker that placed the dial or holds
its call (callbacks.py, engine/app/server/forwarding.py), whichever worker Twilio reached.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from adapters.twilio.dialing import DialError
from adapters.twilio.twiml import busy
from engine.app.outbound.call_vars import VarError
from engine.app.outbound.callbacks import AMD, ANSWERED, GONE, STATUS, add_outbound_hooks
from engine.app.outbound.desk import AMD_PATH, STATUS_PATH, WEBHOOK_PATH
from engine.app.server.forwarding import decide
from engine.app.server.hook_answer import HookAnswer
from engine.app.server.webhook_form import signed_form

log = logging.getLogger("dialflow.outbound")
MAX_BODY = 4096


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

    hooks = app.state.hooks
    add_outbound_hooks(services, hooks)

    async def callback(request: Request, hook: str, fallback: HookAnswer,
                       busy_when_full: bool = False, by_call: bool = False) -> Response:
        """Decided by the dial's home worker; `by_call`: by the worker running its call
        first, if it has started."""
        form = await signed_form(request, services.signatures, services.metrics)
        if isinstance(form, Response):
            return form
        if busy_when_full and (services.at_capacity or not services.accepting):
            return Response(busy(GONE), media_type="application/xml")
        query = {"dial": request.query_params.get("dial", "")[:64]}
        keys = (f"dial:{query['dial']}",)
        if by_call:
            keys = (f"call:{form.get('CallSid', '')}", *keys)
        answer = await decide(services, hooks, keys, hook, form, query, fallback)
        return answer.render(request, services.signatures)

    @app.post(WEBHOOK_PATH)
    async def answered(request: Request) -> Response:
        return await callback(request, ANSWERED, HookAnswer.twiml(busy(GONE)),
                              busy_when_full=True)

    @app.post(AMD_PATH)
    async def detected(request: Request) -> Response:
        return await callback(request, AMD, HookAnswer.empty(), by_call=True)

    @app.post(STATUS_PATH)
    async def status(request: Request) -> Response:
        return await callback(request, STATUS, HookAnswer.empty())
