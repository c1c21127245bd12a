"""A warm transfer under `dialflow serve --workers 2`, with Twilio's callbacks landing on the
worker that does NOT hold the call: the dial report after no answer is decided by the
call's worker (forwarded over its Unix socket) and the caller's returning stream is relayed
to it, so the same call goes on and takes a message; the whisper reaches the call from the
other worker too. A worker killed while its call is parked: its callbacks get a goodbye from
the survivor, and the registry forgets the dead worker's calls. The real twilio SDK updates
the call on the fake Twilio REST server; the caller is the simulated Twilio side. Which
worker a request reaches is chosen by retrying connections (tests/deploy/worker_pick.py).
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
from collections.abc import Iterator

import pytest

from adapters.twilio.binding import BINDING_PARAM
from adapters.twilio.caller import SimulatedCaller
from engine.app.server.call_owners import owners_dir
from tests.deploy.call_watch import heard, transcript, until
from tests.deploy.serve_process import AUTH_TOKEN, ServeProcess
from tests.deploy.worker_pick import post_on, websocket_on
from tests.fakes.twilio_rest import ACCOUNT_SID, FakeTwilioRest

CALLER = "+15550001234"
SIDS = ("CA" + "1" * 32, "CA" + "2" * 32, "CA" + "3" * 32)


@pytest.fixture(scope="module")
def rest() -> Iterator[FakeTwilioRest]:
    with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, calls=SIDS) as fake:
        yield fake


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory,
           rest: FakeTwilioRest) -> Iterator[ServeProcess]:
    workdir = tmp_path_factory.mktemp("warm")
    serve = ServeProcess(workdir, workers=2, extra_env={
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID, "DIALFLOW_TWILIO_API_URL": rest.base_url,
        "DIALFLOW_CLOCK": "2026-12-01T10:00",  # a Tuesday morning: the desk is open
        "DIALFLOW_RUNTIME_DIR": str(workdir / "run")}).start()
    try:
        serve.wait_for(lambda h: h["capacity"]["workers_serving"] == 2, "two workers serving")
        yield serve
    finally:
        serve.stop()


async def parked_call(server: ServeProcess, rest: FakeTwilioRest,
                      sid: str) -> tuple[SimulatedCaller, int]:
    """A call on some worker, transferred with the 0 key, its stream stopped for the
    `<Dial>` as Twilio does; the caller and the index of the worker holding the call."""
    ws, owner = await websocket_on(lambda _: True, server.ws_url, AUTH_TOKEN)
    caller = SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid=sid, caller=CALLER)
    await caller.connect(ws)
    await caller.press("0")
    await until(lambda: any(r.call_sid == sid and "Dial" in r.form.get("Twiml", "")
                            for r in rest.requests), "the warm transfer's dial")
    await caller.stop()
    return caller, owner


def test_no_answer_reported_to_the_other_worker_brings_the_caller_back(
        server: ServeProcess, rest: FakeTwilioRest) -> None:
    sid = SIDS[0]

    async def scenario() -> None:
        first, owner = await parked_call(server, rest, sid)
        report = {"CallSid": sid, "AccountSid": ACCOUNT_SID, "CallStatus": "in-progress",
                  "DialCallStatus": "no-answer", "DialCallDuration": "0"}
        answer, other = await post_on(lambda i: i != owner,
                                      f"{server.url}/webhook/transfer/status", report,
                                      AUTH_TOKEN)
        assert other != owner and answer.status_code == 200
        assert f'<Stream url="ws://127.0.0.1:{server.port}/ws/media">' in answer.text
        binding = re.search(rf'name="{BINDING_PARAM}" value="([^"]+)"', answer.text)
        assert binding is not None, answer.text

        ws, relaying = await websocket_on(lambda i: i != owner, server.ws_url, AUTH_TOKEN)
        back = SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid=sid,
                               caller=CALLER, custom_parameters={BINDING_PARAM: binding[1]})
        await back.connect(ws)
        await until(lambda: any("nobody from our team" in t for t in heard(server, sid)),
                    "the caller to hear, on the returning stream, that nobody picked up")
        assert relaying != owner and back.echoed_marks and back.errors == []
        assert server.health()["active_calls"] == 1  # the same call, not a new one
        await back.stop()
        assert first.errors == []

    asyncio.run(scenario())
    log = server.log()
    assert "transfer.status decided by worker" in log
    assert "media stream relayed to worker" in log
    assert "the caller is back on a new media stream" in log
    assert [line["kind"] for line in transcript(server, sid)].count("start") == 1


def test_the_human_answering_on_the_other_worker_hears_the_whisper(
        server: ServeProcess, rest: FakeTwilioRest) -> None:
    sid = SIDS[1]

    async def scenario() -> None:
        _, owner = await parked_call(server, rest, sid)
        url = f"{server.url}/webhook/transfer/whisper?parent={sid}"
        child = {"CallSid": "CA" + "9" * 32, "ParentCallSid": sid, "CallStatus": "in-progress",
                 "AccountSid": ACCOUNT_SID}
        whisper, other = await post_on(lambda i: i != owner, url, child, AUTH_TOKEN)
        assert other != owner and whisper.status_code == 200
        assert "<Say>A caller from the Bright Smile Dental virtual assistant." in whisper.text
        await until(lambda: server.health()["active_calls"] == 0, "the transferred call to end")
        report = {"CallSid": sid, "CallStatus": "in-progress", "DialCallStatus": "completed"}
        late, _ = await post_on(lambda i: i != owner, f"{server.url}/webhook/transfer/status",
                                report, AUTH_TOKEN)
        assert "Hangup" in late.text and "Stream" not in late.text

    asyncio.run(scenario())


def test_a_dead_workers_parked_call_gets_a_goodbye_and_is_forgotten(
        server: ServeProcess, rest: FakeTwilioRest) -> None:
    sid = SIDS[2]
    runtime = server.workdir / "run"

    async def scenario() -> None:
        _, owner = await parked_call(server, rest, sid)
        assert any(owners_dir(runtime, owner).iterdir())  # the parked call is registered
        pid = next(w["pid"] for w in server.health()["workers"] if w["index"] == owner)
        os.kill(pid, signal.SIGKILL)
        await until(lambda: not owners_dir(runtime, owner).exists(),
                    "the supervisor to forget the dead worker's calls", timeout=30)
        report = {"CallSid": sid, "AccountSid": ACCOUNT_SID, "CallStatus": "in-progress",
                  "DialCallStatus": "no-answer"}
        answer, index = await post_on(lambda i: i != owner,
                                      f"{server.url}/webhook/transfer/status", report,
                                      AUTH_TOKEN)
        assert answer.status_code == 200 and index != owner
        assert "<Say>Sorry, we lost track of your call" in answer.text
        assert "Hangup" in answer.text and "Stream" not in answer.text

    asyncio.run(scenario())
