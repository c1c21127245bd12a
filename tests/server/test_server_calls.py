"""Whole calls through the real server: uvicorn, the Media Streams WebSocket and a simulated
Twilio caller with a real playback buffer; fake speech providers and brain; a fake Twilio
REST server for the transfer. Waits are on conditions, never on wall-clock thresholds."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.messages import OutboundClear, OutboundMark
from adapters.twilio.signature import sign
from engine.call import Call
from engine.transcripts import TranscriptStore
from tests.fakes.providers import silence, tone
from tests.fakes.twilio_rest import FakeTwilioRest
from tests.fakes.twilio_webhooks import answer_whisper
from tests.server.harness import ACCOUNT_SID, AUTH_TOKEN, Running, running_server
from tests.waiting import until

INSURANCE = ("We accept most PPO plans. That includes Delta Dental, Cigna and Aetna. "
             "We also offer a membership plan for patients without any insurance at all.")


def the_call(server: Running) -> Call:
    (stream,) = server.services.streams
    assert stream.call is not None
    return stream.call


def test_greeting_barge_in_and_dtmf_transfer(tmp_path: Path) -> None:
    async def scenario() -> None:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                            calls=("CA100",)) as rest:
            async with running_server(tmp_path, twilio_url=rest.base_url,
                                      transcripts=["Do you take my insurance?"]) as server:
                server.world.llm.append({"reply": INSURANCE})
                async with SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                           call_sid="CA100", caller="+15550001234") as caller:
                    await until(lambda: len(server.services.streams) == 1)
                    call = the_call(server)
                    # The greeting is heard: its mark comes back, then the call listens.
                    await until(lambda: call.state == "listening")
                    assert caller.echoed_marks and len(caller.heard) > 8000 * 0.5
                    assert server.tts.spoken[0].startswith("Thank you for calling")

                    await caller.say(tone(0.6) + silence(0.4))
                    await until(lambda: call.state == "speaking")
                    await until(lambda: call.timeline.turns == 1)
                    stages = list(call.timeline.last)
                    assert stages == ["caller_done", "final_transcript", "first_sentence",
                                      "tts_first_byte",
                                      "first_frame", "first_mark"]
                    # Talk over the reply: the server clears Twilio's buffer.
                    await caller.say(tone(0.5), wait=False)
                    await until(lambda: any(isinstance(m, OutboundClear)
                                            for m in caller.received))
                    await until(lambda: call.state == "listening")
                    heard = [s.text for s in call.playback.heard]
                    assert "We also offer a membership plan" not in " ".join(heard)
                    assert not call.playback.playing

                    await caller.press("0")
                    await until(lambda: bool(rest.placed))  # the human's phone rings
                    # a warm transfer: the human answers, hears the whisper and joins the
                    # caller (its own tests: test_warm_transfer.py); the human has the call
                    joined = await answer_whisper(server.http_url, "CA100", AUTH_TOKEN)
                    assert "<Conference" in joined.text
                    await until(lambda: call.ended)
                    assert call.state == "transferred"
                    assert rest.placed[0].form["To"] == "+15550100199"
                    assert caller.errors == []
                    marks = [m for m in caller.received if isinstance(m, OutboundMark)]
                    assert marks and marks[0].name == "s1"

    asyncio.run(scenario())


def test_failed_transfer_takes_a_message_and_says_goodbye(tmp_path: Path) -> None:
    async def scenario() -> None:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as rest:
            rest.fail_with(404, 20404, "The requested resource was not found")
            async with (running_server(tmp_path, twilio_url=rest.base_url) as server,
                        SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                        call_sid="CA200") as caller):
                await until(lambda: len(server.services.streams) == 1)
                call = the_call(server)
                await until(lambda: call.state == "listening")
                await caller.press("0")
                await until(lambda: call.ended, timeout=30)
                states = call.trace.states()
                assert states[-4:] == ["escalating", "transferring", "goodbye", "ended"]
                goodbye = [t for t in server.tts.spoken if t.endswith("Goodbye!")]
                assert goodbye, server.tts.spoken
                # The goodbye was heard (its mark came back) before the hang-up.
                assert call.playback.heard[-1].text == goodbye[-1]
                tickets = server.services.storage.list_tickets()
                assert len(tickets) == 1 and tickets[0].call_id == "CA200"
                assert rest.requests  # the transfer really was attempted
            lines = TranscriptStore.read(tmp_path / "transcripts" / "CA200.jsonl")
            kinds = [line["kind"] for line in lines]
            assert kinds[0] == "start" and kinds[-1] == "end" and lines[-1]["state"] == "ended"
            heard = [line["text"] for line in lines if line["kind"] == "agent"]
            assert heard[0].startswith("Thank you for calling") and heard[-1] == goodbye[-1]

    asyncio.run(scenario())


def test_webhook_signature_and_twiml(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            url = f"{server.http_url}/webhook/voice"
            form = {"CallSid": "CA300", "From": "+15550009999", "To": "+15550100100"}
            async with httpx.AsyncClient() as client:
                good = await client.post(url, data=form,
                                         headers={"X-Twilio-Signature": sign(AUTH_TOKEN, url,
                                                                             form)})
                forged = await client.post(url, data=form,
                                           headers={"X-Twilio-Signature": "Zm9yZ2Vk"})
                missing = await client.post(url, data=form)
                health = (await client.get(f"{server.http_url}/health")).json()
                metrics = (await client.get(f"{server.http_url}/metrics")).text
            assert good.status_code == 200
            assert f'<Stream url="ws://127.0.0.1:{server.port}/ws/media">' in good.text
            assert '<Parameter name="caller" value="+15550009999"' in good.text
            assert forged.status_code == 403 and missing.status_code == 403
            assert len(server.services.streams) == 0
            assert health["status"] == "ok" and health["active_calls"] == 0
            assert health["keys_configured"]["ANTHROPIC_API_KEY"] in (True, False)
            assert AUTH_TOKEN not in str(health)
            assert 'dialflow_errors_total{component="signature"} 2.0' in metrics

    asyncio.run(scenario())


def test_forged_media_stream_handshake_is_refused(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            caller = SimulatedCaller(server.ws_url, auth_token="not-the-token")
            try:
                await caller.connect()
                await until(lambda: caller.closed)
            except Exception as exc:  # the handshake itself may be rejected
                assert "403" in str(exc) or "1008" in str(exc) or "rejected" in str(exc)
            assert len(server.services.streams) == 0
            assert server.services.metrics.errors_total.labels("signature")._value.get() >= 1

    asyncio.run(scenario())
