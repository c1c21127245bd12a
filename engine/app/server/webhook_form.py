"""`read_form`: the one bounded way a Twilio webhook's body is read.

Twilio's webhooks and callbacks are small urlencoded forms (a few hundred bytes to about
2 KB). A body larger than `MAX_FORM_BYTES` is refused with 413 before it is parsed, whether
its `Content-Length` says so or it arrives chunked; at most `MAX_FIELDS` fields and no files
are parsed. Used by every webhook route (voice, warm transfer, outbound). No signature check
here: the caller checks the signature on the form it gets back.

`signed_form`: `read_form`, then the `X-Twilio-Signature` check (403 otherwise), the form as
text values of at most 500 characters: what every callback route starts with.

`stream_answer`: the one way a signed webhook answers `<Connect><Stream>` bound to its call
(the stream URL from the trusted host, the binding of CallSid and caller).
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from adapters.twilio.signature import SignatureChecker, SignatureRejected
from adapters.twilio.twiml import CALLED_PARAM, E164, connect_stream
from adapters.twilio.urls import stream_url

MAX_FORM_BYTES = 16_384
MAX_FIELDS = 100


def _too_large() -> Response:
    return Response("request too large", status_code=413)


async def read_form(request: Request) -> FormData | Response:
    """The request's form, or a 413 `Response` when the body is over `MAX_FORM_BYTES`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and len(declared) <= 12 and int(declared) > MAX_FORM_BYTES:
        return _too_large()
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return _too_large()
    request._body = bytes(body)  # Starlette's form parser reads the cached body
    return await request.form(max_fields=MAX_FIELDS, max_files=0)


async def signed_form(request: Request, signatures: SignatureChecker,
                      metrics: Any) -> dict[str, str] | Response:
    """The checked form of a Twilio callback, or the `Response` (413, 403) that refuses it."""
    form = await read_form(request)
    if isinstance(form, Response):
        return form
    try:
        signatures.check_webhook(
            scheme=request.url.scheme, path=request.url.path, query=request.url.query,
            headers=request.headers, form=form, call_id=str(form.get("CallSid", "")),
            peer=request.client.host if request.client else None)
    except SignatureRejected:
        metrics.error("signature")
        return Response("forbidden", status_code=403)
    return {k: str(v)[:500] for k, v in form.items()}


def stream_answer(request: Request, signatures: SignatureChecker, call_sid: str,
                  caller: str, called: str = "") -> Response:
    """`<Connect><Stream>` for `call_sid`, bound to `caller` by the signed parameter;
    `called` (our number the caller dialled, when E.164) rides along as `called`: a warm
    transfer rings the human from it."""
    peer = request.client.host if request.client else None
    url = stream_url(scheme=request.url.scheme, headers=request.headers,
                     public_url=signatures.settings.public_url,
                     trust_forwarded=signatures.trusts(peer))
    parameters = dict(signatures.bind_call(call_sid, caller))
    if E164.match(called):
        parameters[CALLED_PARAM] = called
    twiml = connect_stream(url, caller=caller, call_sid=call_sid, parameters=parameters)
    return Response(twiml, media_type="application/xml")
