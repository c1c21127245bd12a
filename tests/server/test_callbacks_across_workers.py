"""Twilio's callbacks reaching the worker that does not hold the call, with two in-process
workers (tests/server/two_workers.py) so the test picks the worker by its port and looks into
both: a warm transfer's no-answer report sent to worker 1 for a call on worker 0 is decided
by worker 0, and the caller's returning stream, opened on worker 1, is relayed to the same
call on worker 0; the whisper likewise. When the worker holding a call is gone, each
callback gets a clear answer (a goodbye, a hang-up, a 204) and a stream is closed, never an
error page. Draining workers still take the caller back, and no new call. The real twilio
SDK talks to the fake Twilio REST server."""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from adapters.twilio.binding import BINDING_PARAM, make_binding
from adapters.twilio.caller import SimulatedCaller
from engine.app.server.call_owners import CallOwners, owners_dir
from tests.fakes.providers import silence, tone
from tests.fakes.twilio_rest import FakeTwilioRest
from tests.fakes.twilio_webhooks import signed_post
from tests.server.harness import ACCOUNT_SID, AUTH_TOKEN, Running, running_server
from tests.server.raw_stream import CONNECTED, handshake_headers, start_message
from tests.server.test_hostile_streams import closed_with
from tests.server.two_workers import routed, two_workers

SID, CALLER = "CA800", "+15550001234"


@contextlib.asynccontextmanager
async def removed(path: Path) -> AsyncIterator[None]:
    try:
        yield
    finally:
        shutil.rmtree(path, ignore_errors=True)


async def until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def parked(w0: Running, rest: FakeTwilioRest) -> tuple[SimulatedCaller, object]:
    """A call on worker 0 that pressed 0 and left its stream for the warm transfer's dial."""
    caller = SimulatedCaller(w0.ws_url, auth_token=AUTH_TOKEN, call_sid=SID, caller=CALLER)
    await caller.connect()
    await until(lambda: len(w0.services.streams) == 1)
    (stream,) = w0.services.streams
    await until(lambda: stream.call.state == "listening")
    await caller.press("0")
    await until(lambda: any("Dial" in r.form.get("Twiml", "") for r in rest.requests))
    await caller.stop()
    await until(lambda: stream.stt is None)
    return caller, stream


def test_the_report_and_the_returning_stream_reach_the_call_on_the_other_worker(tmp_path):
    async def scenario() -> None:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, calls=(SID,)) as rest:
            async with two_workers(tmp_path, twilio_url=rest.base_url, transcripts=[
                    "Maria Gomez", "Please call me back."]) as (w0, w1):
                first, stream = await parked(w0, rest)
                call = stream.call
                report = {"CallSid": SID, "AccountSid": ACCOUNT_SID, "CallStatus": "in-progress",
                          "DialCallStatus": "no-answer"}
                url = f"{w1.http_url}/webhook/transfer/status"
                assert (await signed_post(url, report, "forged")).status_code == 403
                answer = await signed_post(url, report, AUTH_TOKEN)
                assert answer.status_code == 200
                # written by worker 1 for its own request: the stream comes back to its port
                assert f'<Stream url="ws://127.0.0.1:{w1.port}/ws/media">' in answer.text
                binding = re.search(rf'name="{BINDING_PARAM}" value="([^"]+)"', answer.text)
                assert binding is not None and call.state == "transferring"

                back = SimulatedCaller(w1.ws_url, auth_token=AUTH_TOKEN, call_sid=SID,
                                       caller=CALLER,
                                       custom_parameters={BINDING_PARAM: binding[1]})
                await back.connect()
                await until(lambda: call.state == "message_name")
                assert w0.services.streams == {stream} and not w1.services.streams
                await until(lambda: len(back.echoed_marks) >= 2)  # heard through the relay
                assert any("nobody from our team" in t for t in w0.tts.spoken)
                await back.say(tone(0.6) + silence(0.4))  # the caller's audio, relayed too
                await until(lambda: call.state == "message_text")
                await back.stop()
                await until(lambda: call.ended)
                assert first.errors == [] and back.errors == []
                await until(lambda: not w0.services.streams)
                assert not any(owners_dir(w0.services.routing.owners.runtime, 0).iterdir())

    asyncio.run(scenario())


def test_the_whisper_on_the_other_worker_connects_the_human(tmp_path: Path) -> None:
    async def scenario() -> None:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, calls=(SID,)) as rest:
            async with two_workers(tmp_path, twilio_url=rest.base_url) as (w0, w1):
                _, stream = await parked(w0, rest)
                whisper = await signed_post(
                    f"{w1.http_url}/webhook/transfer/whisper?parent={SID}",
                    {"CallSid": "CA801", "ParentCallSid": SID, "CallStatus": "in-progress"},
                    AUTH_TOKEN)
                assert whisper.status_code == 200 and "<Say>A caller from" in whisper.text
                await until(lambda: stream.call.ended)
                assert stream.call.state == "transferred"

    asyncio.run(scenario())


def test_callbacks_for_a_call_held_by_a_gone_worker_get_clear_answers(tmp_path: Path) -> None:
    """Worker 1 holds the call and a dial (its registry says so) but its socket is gone."""
    async def scenario() -> None:
        runtime = Path(tempfile.mkdtemp(prefix="df-run-"))
        async with running_server(tmp_path) as w0, routed(w0, runtime, 0), removed(runtime):
            gone = CallOwners(runtime, 1, 2, lambda _: True)
            gone.start()
            assert gone.claim(f"call:{SID}") and gone.claim("dial:D1")
            base = w0.http_url
            report = {"CallSid": SID, "CallStatus": "in-progress", "DialCallStatus": "busy"}
            lost = await signed_post(f"{base}/webhook/transfer/status", report, AUTH_TOKEN)
            assert lost.status_code == 200 and "<Say>Sorry, we lost track" in lost.text
            assert "Hangup" in lost.text
            whisper = await signed_post(f"{base}/webhook/transfer/whisper?parent={SID}",
                                        {"CallSid": "CA9"}, AUTH_TOKEN)
            assert whisper.status_code == 200 and "Hangup" in whisper.text
            amd = await signed_post(f"{base}/webhook/outbound/amd?dial=D1",
                                    {"CallSid": SID, "AnsweredBy": "human"}, AUTH_TOKEN)
            assert amd.status_code == 204
            hook = await signed_post(f"{base}/webhook/outbound?dial=D1",
                                     {"CallSid": SID, "To": CALLER}, AUTH_TOKEN)
            assert hook.status_code == 200 and "no longer expected" in hook.text

            binding = make_binding(AUTH_TOKEN, SID, CALLER, time.time())
            url = w0.ws_url
            async with connect(url, additional_headers=handshake_headers(AUTH_TOKEN, url),
                               proxy=None) as ws:
                await ws.send(CONNECTED)
                await ws.send(start_message(SID, caller=CALLER, binding=binding))
                assert await closed_with(ws) == 1013  # try again later: nobody to relay to
            assert not w0.services.streams

            w0.services.routing.owners.alive = lambda _: False  # now the board says so too
            owners = w0.services.routing.owners
            assert owners.owner(f"call:{SID}") is None and owners.owner("dial:D1") is None
            assert not any(owners_dir(runtime, 1).iterdir())  # and the entries are forgotten
            again = await signed_post(f"{base}/webhook/transfer/status", report, AUTH_TOKEN)
            assert "<Say>Sorry, we lost track" in again.text

    asyncio.run(scenario())


def test_draining_workers_still_bring_a_transferred_caller_back_and_take_nothing_new(tmp_path):
    async def scenario() -> None:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, calls=(SID,)) as rest:
            async with two_workers(tmp_path, twilio_url=rest.base_url) as (w0, w1):
                _, stream = await parked(w0, rest)
                await until(lambda: w1.services.worker.board.read(0).parked == 1)  # published
                w0.services.accepting = w1.services.accepting = False  # SIGTERM: both drain
                url = w1.ws_url
                async with connect(url, additional_headers=handshake_headers(AUTH_TOKEN, url),
                                   proxy=None) as ws:  # a new call while a transfer waits
                    await ws.send(CONNECTED)
                    await ws.send(start_message("CA802", token=AUTH_TOKEN))
                    assert await closed_with(ws) == 1013  # taken only to see its start
                report = {"CallSid": SID, "CallStatus": "in-progress",
                          "DialCallStatus": "busy"}
                answer = await signed_post(f"{w1.http_url}/webhook/transfer/status", report,
                                           AUTH_TOKEN)
                binding = re.search(rf'name="{BINDING_PARAM}" value="([^"]+)"', answer.text)
                assert binding is not None, answer.text
                back = SimulatedCaller(w1.ws_url, auth_token=AUTH_TOKEN, call_sid=SID,
                                       caller=CALLER,
                                       custom_parameters={BINDING_PARAM: binding[1]})
                await back.connect()
                await until(lambda: stream.call.state == "message_name")
                await until(lambda: len(back.echoed_marks) >= 1)
                assert w0.services.streams == {stream} and not w1.services.streams
                await until(lambda: w1.services.worker.board.read(0).parked == 0)
                with pytest.raises(InvalidStatus):  # nobody waits to come back: refused at once
                    await connect(url, additional_headers=handshake_headers(AUTH_TOKEN, url),
                                  proxy=None)
                await back.stop()

    asyncio.run(scenario())
