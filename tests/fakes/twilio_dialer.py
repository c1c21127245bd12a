"""What Twilio does after `Calls.create` on the fake REST server: the callee picks up, so
it POSTs the signed webhook at the call's `Url` (Direction outbound-api), opens the signed
media stream the TwiML names (`SimulatedCaller`, the called number as its caller) and posts
the answering-machine result, signed, to `AsyncAmdStatusCallback`; or nobody picks up and
`ring_out` posts the final status to `StatusCallback`. Local only.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import httpx

from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.signature import SIGNATURE_HEADER, sign
from tests.fakes.twilio_rest import RecordedRequest


async def _signed_post(url: str, form: dict[str, str], auth_token: str) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        return await client.post(url, data=form,
                                 headers={SIGNATURE_HEADER: sign(auth_token, url, form)})


async def pick_up(placed: RecordedRequest, auth_token: str,
                  answered_by: str = "") -> SimulatedCaller:
    """The callee answers: the webhook (with `AnsweredBy` when detection is synchronous),
    then the media stream (not yet entered)."""
    form = {"CallSid": placed.call_sid, "AccountSid": placed.account_sid,
            "From": placed.form["From"], "To": placed.form["To"],
            "CallStatus": "in-progress", "Direction": "outbound-api"}
    if answered_by:
        form["AnsweredBy"] = answered_by
    answer = await _signed_post(placed.form["Url"], form, auth_token)
    answer.raise_for_status()
    stream = ET.fromstring(answer.text).find("./Connect/Stream")
    if stream is None:
        raise AssertionError(f"the outbound webhook did not connect a stream: {answer.text}")
    params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return SimulatedCaller(stream.get("url", ""), auth_token=auth_token,
                           caller=params.get("caller", ""), call_sid=placed.call_sid,
                           custom_parameters=params)


async def detect(placed: RecordedRequest, auth_token: str, answered_by: str) -> int:
    """Twilio's asynchronous AMD result for the call; the status code it got."""
    form = {"CallSid": placed.call_sid, "AccountSid": placed.account_sid,
            "AnsweredBy": answered_by, "MachineDetectionDuration": "2100"}
    answer = await _signed_post(placed.form["AsyncAmdStatusCallback"], form, auth_token)
    return answer.status_code


async def ring_out(placed: RecordedRequest, auth_token: str, status: str = "no-answer") -> int:
    """Nobody picked up: Twilio's status callback with the final CallStatus."""
    form = {"CallSid": placed.call_sid, "AccountSid": placed.account_sid,
            "CallStatus": status, "To": placed.form["To"], "From": placed.form["From"]}
    answer = await _signed_post(placed.form["StatusCallback"], form, auth_token)
    return answer.status_code
