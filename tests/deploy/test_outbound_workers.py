"""Outbound reminder calls under `dialflow serve --workers 2`, Twilio's callbacks landing on
the worker that does not hold what they are about: `POST /calls` places the call (the real
twilio SDK against the fake Twilio REST server) on one worker, its webhook reaches the other
(decided by the placing one), its media stream starts on either (the variables come from the
placing worker when it is the other), and the answering-machine result reaches the worker
without the stream — early or late — and still becomes the call's `call.answered_by`. What
the callee heard is read from the call's transcript; which worker a request reaches is
chosen by retrying connections (tests/deploy/worker_pick.py).
"""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator

import httpx
import pytest

from adapters.twilio.caller import SimulatedCaller
from tests.deploy.call_watch import heard, until
from tests.deploy.serve_process import AUTH_TOKEN, ROOT, ServeProcess
from tests.deploy.worker_pick import WORKER, post_on, websocket_on
from tests.fakes.twilio_rest import ACCOUNT_SID, FakeTwilioRest, RecordedRequest

TOKEN = "dial-api-token-for-tests"
TO = "+15551230001"
VARS = {"patient_name": "Ana", "appointment_when": "Thursday, December 3rd at 9 AM"}


@pytest.fixture(scope="module")
def rest() -> Iterator[FakeTwilioRest]:
    with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as fake:
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           rest: FakeTwilioRest) -> Iterator[ServeProcess]:
    workdir = tmp_path_factory.mktemp("outbound")
    serve = ServeProcess(workdir, workers=2, flow_source=ROOT / "examples" / "reminders.yaml")
    serve.extra_env.update({
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "DIALFLOW_TWILIO_API_URL": rest.base_url,
        "DIALFLOW_PUBLIC_URL": serve.url, "DIALFLOW_DIAL_FROM": "+15550100100",
        "DIALFLOW_DIAL_TOKEN": TOKEN})
    serve.start()
    try:
        serve.wait_for(lambda h: h["capacity"]["workers_serving"] == 2, "two workers serving")
        yield serve
    finally:
        serve.stop()


def hung_up(rest: FakeTwilioRest, call_sid: str) -> bool:
    return any(r.call_sid == call_sid and r.form.get("Status") == "completed"
               for r in rest.requests)


async def place(server: ServeProcess, rest: FakeTwilioRest) -> tuple[RecordedRequest, int]:
    """`POST /calls` on whichever worker: the placed call and the worker that placed it."""
    before = len(rest.placed)
    async with httpx.AsyncClient(timeout=20) as client:
        answer = await client.post(f"{server.url}/calls", json={"to": TO, "vars": VARS},
                                   headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 201, answer.text
    assert len(rest.placed) == before + 1
    placed = rest.placed[-1]
    assert answer.json()["call_sid"] == placed.call_sid
    return placed, int(answer.headers[WORKER])


async def answer_on(want: Callable[[int], bool], placed: RecordedRequest) -> SimulatedCaller:
    """The callee picks up: Twilio's webhook (on a wanted worker); the caller of its stream."""
    form = {"CallSid": placed.call_sid, "AccountSid": placed.account_sid,
            "From": placed.form["From"], "To": placed.form["To"],
            "CallStatus": "in-progress", "Direction": "outbound-api"}
    answer, _ = await post_on(want, placed.form["Url"], form, AUTH_TOKEN)
    stream = ET.fromstring(answer.text).find("./Connect/Stream")
    assert stream is not None, answer.text
    params = {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}
    return SimulatedCaller(stream.get("url", ""), auth_token=AUTH_TOKEN, caller=params["caller"],
                           call_sid=placed.call_sid, custom_parameters=params)


async def amd_on(want: Callable[[int], bool], placed: RecordedRequest, answered_by: str) -> int:
    form = {"CallSid": placed.call_sid, "AccountSid": placed.account_sid,
            "AnsweredBy": answered_by, "MachineDetectionDuration": "2100"}
    answer, index = await post_on(want, placed.form["AsyncAmdStatusCallback"], form, AUTH_TOKEN)
    assert answer.status_code == 204
    return index


def test_a_machine_result_on_the_other_worker_leaves_the_voicemail(
        server: ServeProcess, rest: FakeTwilioRest) -> None:
    async def scenario() -> tuple[int, int]:
        placed, home = await place(server, rest)
        callee = await answer_on(lambda i: i != home, placed)  # decided by the placing worker
        ws, held = await websocket_on(lambda i: i == home, callee.url, AUTH_TOKEN)
        await callee.connect(ws)
        await until(lambda: server.health()["active_calls"] == 1, "the call to start")
        amd = await amd_on(lambda i: i != held, placed, "machine_end_beep")
        await until(lambda: hung_up(rest, placed.call_sid), "the voicemail and the hang-up")
        said = heard(server, placed.call_sid)
        assert said and said[0].startswith("Hello, this is Bright Smile Dental with a reminder "
                                           "for Ana: your appointment is on Thursday")
        assert callee.errors == []
        await callee.stop()
        return held, amd

    held, amd = asyncio.run(scenario())
    assert amd != held
    assert "outbound.answered decided by worker" in server.log()
    assert "outbound.amd decided by worker" in server.log()


def test_a_person_whose_stream_reached_the_other_worker_confirms(
        server: ServeProcess, rest: FakeTwilioRest) -> None:
    async def scenario() -> int:
        placed, home = await place(server, rest)
        callee = await answer_on(lambda i: i != home, placed)
        ws, _ = await websocket_on(lambda i: i != home, callee.url, AUTH_TOKEN)
        await callee.connect(ws)
        await until(lambda: server.health()["active_calls"] >= 1, "the call to start")
        await amd_on(lambda i: i == home, placed, "human")  # the placing worker, not the call's
        await until(lambda: any(t.startswith("Hello Ana, this is Bright Smile Dental")
                                for t in heard(server, placed.call_sid)), "the reminder")
        await callee.press("1")
        await until(lambda: hung_up(rest, placed.call_sid), "the confirmation and the hang-up")
        assert any("is confirmed" in t for t in heard(server, placed.call_sid))
        assert callee.errors == []
        await callee.stop()
        return home

    home = asyncio.run(scenario())
    assert f"outbound call placed by worker {home} runs here" in server.log()


def test_a_machine_result_before_the_stream_reaches_the_call_on_the_other_worker(
        server: ServeProcess, rest: FakeTwilioRest) -> None:
    async def scenario() -> None:
        placed, home = await place(server, rest)
        callee = await answer_on(lambda _: True, placed)
        await amd_on(lambda i: i != home, placed, "machine_end_beep")  # kept by the placer
        ws, _ = await websocket_on(lambda i: i != home, callee.url, AUTH_TOKEN)
        await callee.connect(ws)
        await until(lambda: hung_up(rest, placed.call_sid), "the voicemail and the hang-up")
        said = heard(server, placed.call_sid)
        assert said and said[0].startswith("Hello, this is Bright Smile Dental with a reminder")
        await callee.stop()

    asyncio.run(scenario())
