"""Twilio's callbacks reaching the worker that does not hold the call, with two in-process
workers (tests/server/two_workers.py) so the test picks the worker by its port and looks into
both. A warm transfer keeps the caller on worker 0's media stream, hearing hold music, while
the human's phone is rung: the human's whisper, join and status callbacks sent to worker 1
are decided by worker 0 — the music stops there, and the caller is either bridged into the
conference (by REST) or brought back to the agent on the same stream. When the worker holding
a call is gone, each callback gets a clear answer (a hang-up, a 204), never an error page.
The real twilio SDK talks to the fake Twilio REST server."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from adapters.audio.hold import default_chime
from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.messages import OutboundClear, OutboundMedia
from engine.app.server.call_owners import CallOwners, owners_dir
from tests.fakes.providers import silence, tone
from tests.fakes.twilio_rest import FakeTwilioRest, RecordedRequest
from tests.fakes.twilio_webhooks import signed_post
from tests.server.harness import ACCOUNT_SID, AUTH_TOKEN, Running, running_server
from tests.server.two_workers import routed, two_workers
from tests.waiting import until

SID, CALLER, OURS = "CA800", "+15550001234", "+15550100100"
CHIME = default_chime()


@contextlib.asynccontextmanager
async def removed(path: Path) -> AsyncIterator[None]:
    try:
        yield
    finally:
        shutil.rmtree(path, ignore_errors=True)


def music_heard(caller: SimulatedCaller, start: int) -> bool:
    sent = b"".join(m.payload for m in caller.received[start:] if isinstance(m, OutboundMedia))
    return CHIME[:8000] in sent  # the chime's first second


def clears(caller: SimulatedCaller) -> int:
    return sum(isinstance(m, OutboundClear) for m in caller.received)


async def on_hold(w0: Running, rest: FakeTwilioRest) -> tuple[SimulatedCaller, Any,
                                                             RecordedRequest]:
    """A call on worker 0 that pressed 0: the human's leg placed, the caller hearing music."""
    caller = SimulatedCaller(w0.ws_url, auth_token=AUTH_TOKEN, call_sid=SID, caller=CALLER,
                             custom_parameters={"called": OURS})
    await caller.connect()
    await until(lambda: len(w0.services.streams) == 1)
    (stream,) = w0.services.streams
    await until(lambda: stream.call.state == "listening")
    start = len(caller.received)  # before the press: the music starts before the human's leg
    await caller.press("0")
    await until(lambda: bool(rest.placed))
    await until(lambda: music_heard(caller, start))
    (leg,) = rest.placed
    assert stream.call.state == "transferring"
    return caller, stream, leg


def test_the_humans_whisper_and_join_on_the_other_worker_bridge_the_caller(tmp_path):
    async def scenario() -> None:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, calls=(SID,)) as rest:
            async with two_workers(tmp_path, twilio_url=rest.base_url) as (w0, w1):
                caller, stream, leg = await on_hold(w0, rest)
                call = stream.call
                child = {"CallSid": leg.call_sid, "CallStatus": "in-progress",
                         "AccountSid": ACCOUNT_SID}
                whisper_url = f"{w1.http_url}/webhook/transfer/whisper?parent={SID}"
                assert (await signed_post(whisper_url, child, "forged")).status_code == 403
                whisper = await signed_post(whisper_url, child, AUTH_TOKEN)
                assert whisper.status_code == 200 and "<Say>A caller from" in whisper.text
                assert "/webhook/transfer/join?parent=" in whisper.text  # decided by worker 0
                assert w0.services.warm.get(SID).answered and not w1.services.warm.get(SID)
                assert call.state == "transferring"  # the music plays on while they listen
                cleared = clears(caller)
                joined = await signed_post(f"{w1.http_url}/webhook/transfer/join?parent={SID}",
                                           child, AUTH_TOKEN)
                room = f"dialflow-{SID}"
                assert joined.status_code == 200 and f">{room}</Conference>" in joined.text
                def moved() -> list[RecordedRequest]:  # the caller's move runs after the join
                    return [q for q in rest.requests if q.call_sid == SID and "Twiml" in q.form]
                await until(lambda: bool(moved()))
                assert len(moved()) == 1 and f">{room}</Conference>" in moved()[0].form["Twiml"]
                await until(lambda: clears(caller) > cleared)  # worker 0 stopped the music
                await until(lambda: call.ended)
                assert call.state == "transferred" and not w1.services.streams
                await caller.stop()  # Twilio stops the stream as the caller joins the room
                await until(lambda: not w0.services.streams)
                done = await signed_post(f"{w1.http_url}/webhook/transfer/status?parent={SID}",
                                         {**child, "CallStatus": "completed"}, AUTH_TOKEN)
                assert done.status_code == 204 and call.state == "transferred"
                assert caller.errors == [] and len(w0.services.warm) == 0
                assert not any(owners_dir(w0.services.routing.owners.runtime, 0).iterdir())

    asyncio.run(scenario())


def test_a_no_answer_on_the_other_worker_stops_the_music_and_the_agent_takes_a_message(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, calls=(SID,)) as rest:
            async with two_workers(tmp_path, twilio_url=rest.base_url, transcripts=[
                    "Maria Gomez", "Please call me back."]) as (w0, w1):
                caller, stream, leg = await on_hold(w0, rest)
                call = stream.call
                cleared = clears(caller)
                status = await signed_post(
                    f"{w1.http_url}/webhook/transfer/status?parent={SID}",
                    {"CallSid": leg.call_sid, "AccountSid": ACCOUNT_SID,
                     "CallStatus": "no-answer"}, AUTH_TOKEN)
                assert status.status_code == 204
                await until(lambda: clears(caller) > cleared)  # the music stopped on worker 0
                await until(lambda: call.state == "message_name")
                await until(lambda: any("nobody from our team" in t for t in w0.tts.spoken))
                assert w0.services.streams == {stream} and not w1.services.streams
                await caller.say(tone(0.6) + silence(0.4))  # the same stream, the same call
                await until(lambda: call.state == "message_text")
                await caller.say(tone(0.6) + silence(0.4))
                await until(lambda: call.ended, timeout=30)
                (ticket,) = w0.services.storage.list_tickets()
                assert ticket.call_id == SID and "Maria Gomez" in ticket.summary
                await caller.stop()
                assert caller.errors == []

    asyncio.run(scenario())


def test_callbacks_for_a_call_held_by_a_gone_worker_get_clear_answers(tmp_path: Path,
                                                                       caplog) -> None:
    """Worker 1 holds the call and a dial (its registry says so) but its socket is gone."""
    async def scenario() -> None:
        runtime = Path(tempfile.mkdtemp(prefix="df-run-"))
        async with running_server(tmp_path) as w0, routed(w0, runtime, 0), removed(runtime):
            gone = CallOwners(runtime, 1, 2, lambda _: True)
            gone.start()
            assert gone.claim(f"call:{SID}") and gone.claim("dial:D1")
            base = w0.http_url
            leg = {"CallSid": "CA9", "CallStatus": "in-progress"}
            for hook in ("whisper", "join"):
                answer = await signed_post(f"{base}/webhook/transfer/{hook}?parent={SID}", leg,
                                           AUTH_TOKEN)
                assert answer.status_code == 200 and "Hangup" in answer.text
                assert "Conference" not in answer.text
            status = await signed_post(f"{base}/webhook/transfer/status?parent={SID}",
                                       {**leg, "CallStatus": "busy"}, AUTH_TOKEN)
            assert status.status_code == 204
            undecided = [r.getMessage() for r in caplog.records if "did not decide" in
                         r.getMessage()]
            assert len(undecided) == 3  # each was sent to worker 1, which did not answer
            amd = await signed_post(f"{base}/webhook/outbound/amd?dial=D1",
                                    {"CallSid": SID, "AnsweredBy": "human"}, AUTH_TOKEN)
            assert amd.status_code == 204
            hook = await signed_post(f"{base}/webhook/outbound?dial=D1",
                                     {"CallSid": SID, "To": CALLER}, AUTH_TOKEN)
            assert hook.status_code == 200 and "no longer expected" in hook.text

            w0.services.routing.owners.alive = lambda _: False  # now the board says so too
            owners = w0.services.routing.owners
            assert owners.owner(f"call:{SID}") is None and owners.owner("dial:D1") is None
            assert not any(owners_dir(runtime, 1).iterdir())  # and the entries are forgotten
            again = await signed_post(f"{base}/webhook/transfer/whisper?parent={SID}", leg,
                                      AUTH_TOKEN)
            assert "Hangup" in again.text  # decided here: no transfer here either

    asyncio.run(scenario())
