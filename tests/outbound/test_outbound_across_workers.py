"""An outbound reminder call spread over two in-process workers (tests/server/two_workers.py):
worker 0 places it (the real twilio SDK against the fake Twilio REST server), Twilio's
webhook reaches worker 1, which has worker 0 decide, the media stream starts on worker 1
with the variables worker 0 holds, and the answering-machine result sent to worker 0 — after
the stream started, or before it — becomes the call's `call.answered_by` on worker 1:
sent straight to worker 1 when it is known to hold the call, else decided by worker 0,
which sends it on to worker 1 (`held_by`), or keeps it for the stream to take."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from pathlib import Path

from adapters.twilio.caller import SimulatedCaller
from engine.app.outbound.desk import OutboundDesk
from tests.fakes.twilio_rest import FakeTwilioRest
from tests.fakes.twilio_webhooks import signed_post
from tests.outbound.test_dial_end_to_end import FLOW, TO, VARS, until
from tests.server.harness import ACCOUNT_SID, AUTH_TOKEN, Running
from tests.server.two_workers import two_workers


def desk(server: Running) -> OutboundDesk:
    server.services.outbound = OutboundDesk(
        server.services.twilio, server.services.flows.current, from_number="+15550100100",
        base_url=server.http_url)
    return server.services.outbound


async def amd(url: str, call_sid: str) -> int:
    form = {"CallSid": call_sid, "AccountSid": ACCOUNT_SID, "AnsweredBy": "machine_end_beep"}
    return (await signed_post(url, form, AUTH_TOKEN)).status_code


async def voicemail_call(tmp: Path, amd_first: bool, via_home: bool = False) -> None:
    with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as rest:
        async with two_workers(tmp, flow=FLOW, twilio_url=rest.base_url) as (w0, w1):
            home, other = desk(w0), desk(w1)
            home.owners, other.owners = (w0.services.routing.owners,
                                         w1.services.routing.owners)
            dial = await home.dial(TO, VARS)
            (placed,) = rest.placed
            on_w1 = placed.form["Url"].replace(w0.http_url, w1.http_url)
            form = {"CallSid": placed.call_sid, "AccountSid": ACCOUNT_SID, "To": TO,
                    "From": "+15550100100", "CallStatus": "in-progress"}
            answer = await signed_post(on_w1, form, AUTH_TOKEN)
            stream = ET.fromstring(answer.text).find("./Connect/Stream")
            assert stream is not None and stream.get("url") == w1.ws_url  # back to worker 1
            if amd_first:
                assert await amd(placed.form["AsyncAmdStatusCallback"], placed.call_sid) == 204
                assert home.dials[dial.dial_id].answer == ("machine", "machine_end_beep")
            params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
            callee = SimulatedCaller(w1.ws_url, auth_token=AUTH_TOKEN, caller=params["caller"],
                                     call_sid=placed.call_sid, custom_parameters=params)
            async with callee:
                await until(lambda: len(w1.services.streams) == 1)
                (held,) = w1.services.streams
                call = held.call
                assert call.vars["patient_name"] == "Ana"  # brought from worker 0
                assert home.dials[dial.dial_id].held_by == 1 and not w0.services.streams
                if via_home:  # as if the result came before worker 1 recorded the call
                    w1.services.routing.owners.release(f"call:{placed.call_sid}")
                if not amd_first:
                    assert call.state == "answering"
                    assert await amd(placed.form["AsyncAmdStatusCallback"],
                                     placed.call_sid) == 204
                await until(lambda: call.state != "answering")
                assert call.state == "voicemail"
                entry = next(e for e in call.trace.entries if e.event == "call.answered_by")
                assert entry.data == {"answered_by": "machine", "detail": "machine_end_beep"}
                await until(lambda: call.ended, timeout=30)
            await until(lambda: any(r.form.get("Status") == "completed"  # hung up, by REST
                                    for r in rest.requests))
            await until(lambda: not w1.services.streams)
            assert other.dials == {}  # the adopted dial ended with its stream


def test_a_late_machine_result_sent_to_the_placing_worker_reaches_the_call(tmp_path):
    asyncio.run(voicemail_call(tmp_path, amd_first=False))


def test_a_result_the_placing_worker_decides_is_sent_on_to_the_call(tmp_path):
    asyncio.run(voicemail_call(tmp_path, amd_first=False, via_home=True))


def test_an_early_machine_result_waits_at_the_placing_worker_for_the_stream(tmp_path):
    asyncio.run(voicemail_call(tmp_path, amd_first=True))
