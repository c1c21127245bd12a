"""A warm transfer through the real server: the real `twilio` SDK updates the call on the
fake Twilio REST server with `<Dial action><Number url>`; the simulated caller's stream
stops as Twilio's would; the signed whisper and dial-report webhooks are called as Twilio
calls them; after no answer the caller comes back on a new stream (the binding the report
answered with) to the same call, which takes a message. Waits are on conditions."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path

import httpx

from adapters.twilio.binding import BINDING_PARAM
from adapters.twilio.caller import SimulatedCaller
from tests.fakes.providers import silence, tone
from tests.fakes.twilio_rest import FakeTwilioRest
from tests.fakes.twilio_webhooks import signed_post as twilio_post
from tests.server.harness import ACCOUNT_SID, AUTH_TOKEN, Running, running_server

SID = "CA700"


async def until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


async def signed_post(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> httpx.Response:
    """POST as Twilio does (tests/fakes/twilio_webhooks.py), by default with the real token."""
    return await twilio_post(url, form, token)


def dial_request(rest: FakeTwilioRest) -> str:
    return next(r.form["Twiml"] for r in rest.requests if "Dial" in r.form.get("Twiml", ""))


async def ring_the_desk(server: Running, rest: FakeTwilioRest, caller: SimulatedCaller,
                        *, speak: bool) -> str:
    """Reach the warm transfer (by words to the brain, or the 0 key); return the Dial TwiML."""
    await until(lambda: len(server.services.streams) == 1)
    (stream,) = server.services.streams
    await until(lambda: stream.call.state == "listening")
    if speak:
        await caller.say(tone(0.6) + silence(0.4))
    else:
        await caller.press("0")
    await until(lambda: any("Dial" in r.form.get("Twiml", "") for r in rest.requests))
    return dial_request(rest)


def test_no_answer_brings_the_caller_back_to_the_same_call_for_a_message(tmp_path: Path):
    async def scenario() -> None:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                            calls=(SID,)) as rest:
            async with running_server(tmp_path, twilio_url=rest.base_url, transcripts=[
                    "Maria Gomez", "Please call me back about the March invoice."]) as server:
                first = SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid=SID,
                                        caller="+15550001234")
                await first.connect()
                dial = await ring_the_desk(server, rest, first, speak=False)
                base = server.http_url
                assert f'action="{base}/webhook/transfer/status"' in dial
                assert f'<Number url="{base}/webhook/transfer/whisper?parent={SID}">' \
                       "+15550100199</Number>" in dial
                assert 'timeout="25"' in dial
                (stream,) = server.services.streams
                call = stream.call
                await first.stop()  # Twilio stops the stream for the <Dial>
                await until(lambda: stream.stt is None)  # parked: listening to nobody
                assert not call.ended and call.state == "transferring"

                report = {"CallSid": SID, "AccountSid": ACCOUNT_SID, "CallStatus": "in-progress",
                          "DialCallStatus": "no-answer", "DialCallDuration": "0"}
                url = f"{base}/webhook/transfer/status"
                forged = await signed_post(url, report, token="not-the-token")
                assert forged.status_code == 403 and call.state == "transferring"
                answer = await signed_post(url, report)
                assert answer.status_code == 200
                assert f'<Stream url="ws://127.0.0.1:{server.port}/ws/media">' in answer.text
                binding = re.search(rf'name="{BINDING_PARAM}" value="([^"]+)"', answer.text)
                assert binding is not None

                second = SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid=SID,
                                         caller="+15550001234",
                                         custom_parameters={BINDING_PARAM: binding.group(1)})
                await second.connect()
                await until(lambda: call.state == "message_name")
                assert server.services.streams == {stream} and stream.call is call
                await until(lambda: len(second.echoed_marks) >= 2)  # heard on the new stream
                assert any("nobody from our team" in t for t in server.tts.spoken)
                await second.say(tone(0.6) + silence(0.4))
                await until(lambda: call.state == "message_text")
                await second.say(tone(0.6) + silence(0.4))
                await until(lambda: call.ended, timeout=30)
                states = call.trace.states()
                i = states.index("transferring")
                assert states[i:i + 4] == ["transferring", "message_name", "message_text",
                                           "goodbye"]
                (ticket,) = server.services.storage.list_tickets()
                assert ticket.call_id == SID and "Maria Gomez" in ticket.summary
                assert "March invoice" in ticket.summary
                await until(lambda: any(r.form.get("Status") == "completed"
                                        for r in rest.requests), timeout=5)
                await second.stop()
                assert first.errors == [] and second.errors == []
            assert len(server.services.warm) == 0

    asyncio.run(scenario())


def test_answered_transfer_whispers_the_summary_and_the_call_is_handed_over(tmp_path: Path):
    async def scenario() -> None:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                            calls=(SID,)) as rest:
            async with running_server(tmp_path, twilio_url=rest.base_url, transcripts=[
                    "I need to talk to someone about my bill."]) as server:
                server.world.llm.append({"tool_call": {"name": "transfer_to_human", "args": {
                    "reason": "a billing question"}}})
                caller = SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid=SID)
                await caller.connect()
                await ring_the_desk(server, rest, caller, speak=True)
                (stream,) = server.services.streams
                call = stream.call
                await caller.stop()
                whisper_url = f"{server.http_url}/webhook/transfer/whisper?parent={SID}"
                child = {"CallSid": "CA701", "ParentCallSid": SID, "CallStatus": "in-progress",
                         "AccountSid": ACCOUNT_SID}
                assert (await signed_post(whisper_url, child, token="x")).status_code == 403
                whisper = await signed_post(whisper_url, child)
                assert whisper.status_code == 200
                assert "<Say>A caller from the Bright Smile Dental virtual assistant. Reason: " \
                       "a billing question. They said: I need to talk to someone about my " \
                       "bill.</Say>" in whisper.text
                await until(lambda: call.ended)
                assert call.state == "transferred"
                assert not any(r.form.get("Status") == "completed" for r in rest.requests)
                await until(lambda: not server.services.streams)
                late = await signed_post(f"{server.http_url}/webhook/transfer/status", {
                    "CallSid": SID, "CallStatus": "in-progress", "DialCallStatus": "completed"})
                assert "<Hangup />" in late.text or "<Hangup/>" in late.text

    asyncio.run(scenario())


def test_a_caller_who_hangs_up_while_it_rings_ends_the_call_without_a_hang_up(tmp_path: Path):
    async def scenario() -> None:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                            calls=(SID,)) as rest:
            async with running_server(tmp_path, twilio_url=rest.base_url) as server:
                caller = SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid=SID)
                await caller.connect()
                await ring_the_desk(server, rest, caller, speak=False)
                (stream,) = server.services.streams
                await caller.stop()
                await until(lambda: stream.stt is None)
                gone = await signed_post(f"{server.http_url}/webhook/transfer/status", {
                    "CallSid": SID, "CallStatus": "completed", "DialCallStatus": "canceled"})
                assert "Hangup" in gone.text and "Stream" not in gone.text
                await until(lambda: stream.call.ended)
                assert stream.call.state == "hung_up"
                await until(lambda: not server.services.streams)
                assert len(server.services.warm) == 0
                assert not any(r.form.get("Status") == "completed" for r in rest.requests)

    asyncio.run(scenario())
