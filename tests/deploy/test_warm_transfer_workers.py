"""A warm transfer under `dialflow serve --workers 2`, with the human's callbacks landing on
the worker that does NOT hold the call. The caller stays on its media stream at the call's
worker, hearing hold music, while the human's phone is rung by REST: a no-answer status sent
to the other worker is decided by the call's worker (forwarded over its Unix socket), the
music stops and the same call takes a message on the same stream; a whisper and a join sent
to the other worker bridge the caller into the conference. A worker killed while its caller
is on hold: the human's callbacks get a hang-up / 204 from the survivor, and the registry
forgets the dead worker's calls. The real twilio SDK talks to the fake Twilio REST server;
the caller is the simulated Twilio side. Which worker a request reaches is chosen by retrying
connections (tests/deploy/worker_pick.py).
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator

import pytest

from adapters.audio.hold import default_chime
from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.messages import OutboundMedia
from engine.app.server.call_owners import owners_dir
from tests.deploy.call_watch import heard, transcript, until
from tests.deploy.serve_process import AUTH_TOKEN, ServeProcess
from tests.deploy.worker_pick import post_on, websocket_on
from tests.fakes.twilio_rest import ACCOUNT_SID, FakeTwilioRest, RecordedRequest

CALLER, OURS = "+15550001234", "+15550100100"
SIDS = ("CA" + "1" * 32, "CA" + "2" * 32, "CA" + "3" * 32)
CHIME = default_chime()


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
        "DIALFLOW_DIAL_FROM": OURS,  # the human's leg is rung from our number
        "DIALFLOW_CLOCK": "2026-12-01T10:00",  # a Tuesday morning: the desk is open
        "DIALFLOW_RUNTIME_DIR": str(workdir / "run")}).start()
    try:
        serve.wait_for(lambda h: h["capacity"]["workers_serving"] == 2, "two workers serving")
        yield serve
    finally:
        serve.stop()


def music_heard(caller: SimulatedCaller) -> bool:
    sent = b"".join(m.payload for m in caller.received if isinstance(m, OutboundMedia))
    return CHIME[:8000] in sent  # the default chime's first second


async def on_hold(server: ServeProcess, rest: FakeTwilioRest,
                  sid: str) -> tuple[SimulatedCaller, int, RecordedRequest]:
    """A call on some worker, transferred with the 0 key: the human's leg placed by REST,
    the caller hearing the hold music on its own stream; the caller, the index of the worker
    holding the call, and the leg."""
    ws, owner = await websocket_on(lambda _: True, server.ws_url, AUTH_TOKEN)
    caller = SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid=sid, caller=CALLER)
    await caller.connect(ws)
    await caller.press("0")

    def leg() -> list[RecordedRequest]:
        return [p for p in rest.placed if f"parent={sid}" in p.form.get("Url", "")]

    await until(lambda: bool(leg()), "the human's leg to be placed")
    await until(lambda: music_heard(caller), "the caller to hear the hold music")
    return caller, owner, leg()[0]


def test_no_answer_reported_to_the_other_worker_stops_the_music_for_a_message(
        server: ServeProcess, rest: FakeTwilioRest) -> None:
    sid = SIDS[0]

    async def scenario() -> None:
        caller, owner, leg = await on_hold(server, rest, sid)
        status = {"CallSid": leg.call_sid, "AccountSid": ACCOUNT_SID, "CallStatus": "no-answer"}
        answer, other = await post_on(lambda i: i != owner,
                                      f"{server.url}/webhook/transfer/status?parent={sid}",
                                      status, AUTH_TOKEN)
        assert other != owner and answer.status_code == 204
        await until(lambda: any("nobody from our team" in t for t in heard(server, sid)),
                    "the caller to hear, on the same stream, that nobody picked up")
        assert server.health()["active_calls"] == 1  # the same call, not a new one
        await caller.stop()
        assert caller.errors == []

    asyncio.run(scenario())
    assert "transfer.status decided by worker" in server.log()
    assert [line["kind"] for line in transcript(server, sid)].count("start") == 1


def test_the_human_answering_on_the_other_worker_is_bridged_to_the_caller(
        server: ServeProcess, rest: FakeTwilioRest) -> None:
    sid = SIDS[1]

    async def scenario() -> None:
        caller, owner, leg = await on_hold(server, rest, sid)
        child = {"CallSid": leg.call_sid, "ParentCallSid": sid, "CallStatus": "in-progress",
                 "AccountSid": ACCOUNT_SID}
        whisper, other = await post_on(
            lambda i: i != owner, f"{server.url}/webhook/transfer/whisper?parent={sid}", child,
            AUTH_TOKEN)
        assert other != owner and whisper.status_code == 200
        assert "<Say>A caller from the Bright Smile Dental virtual assistant." in whisper.text
        assert f"/webhook/transfer/join?parent={sid}</Redirect>" in whisper.text
        joined, other = await post_on(
            lambda i: i != owner, f"{server.url}/webhook/transfer/join?parent={sid}", child,
            AUTH_TOKEN)
        room = f"dialflow-{sid}"
        assert other != owner and f">{room}</Conference>" in joined.text
        await until(lambda: any(r.call_sid == sid and room in r.form.get("Twiml", "")
                                for r in rest.requests), "the caller moved into the room")
        await caller.stop()  # Twilio stops the stream as the caller joins the room
        await until(lambda: server.health()["active_calls"] == 0, "the transferred call to end")
        late, _ = await post_on(lambda i: i != owner,
                                f"{server.url}/webhook/transfer/status?parent={sid}",
                                {**child, "CallStatus": "completed"}, AUTH_TOKEN)
        assert late.status_code == 204
        assert caller.errors == []

    asyncio.run(scenario())
    log = server.log()
    assert "transfer.whisper decided by worker" in log
    assert "transfer.join decided by worker" in log


def test_a_dead_workers_call_on_hold_gets_clear_answers_and_is_forgotten(
        server: ServeProcess, rest: FakeTwilioRest) -> None:
    sid = SIDS[2]
    runtime = server.workdir / "run"

    async def scenario() -> None:
        _, owner, leg = await on_hold(server, rest, sid)
        assert any(owners_dir(runtime, owner).iterdir())  # the call is registered
        pid = next(w["pid"] for w in server.health()["workers"] if w["index"] == owner)
        os.kill(pid, signal.SIGKILL)
        await until(lambda: not owners_dir(runtime, owner).exists(),
                    "the supervisor to forget the dead worker's calls", timeout=30)
        child = {"CallSid": leg.call_sid, "AccountSid": ACCOUNT_SID,
                 "CallStatus": "in-progress"}
        whisper, index = await post_on(
            lambda i: i != owner, f"{server.url}/webhook/transfer/whisper?parent={sid}", child,
            AUTH_TOKEN)
        assert whisper.status_code == 200 and index != owner
        assert "Hangup" in whisper.text and "Redirect" not in whisper.text
        status, index = await post_on(
            lambda i: i != owner, f"{server.url}/webhook/transfer/status?parent={sid}",
            {**child, "CallStatus": "no-answer"}, AUTH_TOKEN)
        assert status.status_code == 204 and index != owner

    asyncio.run(scenario())
