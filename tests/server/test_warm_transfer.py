"""A warm transfer through the real server, with the real `twilio` SDK against the fake
Twilio REST server: the human's phone is rung by `Calls.create` (whisper `Url`, ring
`Timeout`, `StatusCallback`) while the simulated caller stays on its media stream and hears
the hold music; the signed webhooks are called as Twilio calls them. No answer: the music
stops (`clear`) and the agent takes a message on the same stream. Answered: the human hears
the whisper, then both legs are put in one conference (the caller's TwiML updated by REST).
Waits are on conditions.

(Before hold music the transfer was `<Dial><Number url>` and a no-answer needed a second
stream; these tests changed with the design: see adapters/twilio/warm.py.)"""

from __future__ import annotations

import asyncio
import logging
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

from adapters.audio.hold import default_chime, hold_audio
from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.messages import OutboundClear, OutboundMedia
from engine.records.replay import is_external
from tests.fakes.providers import silence, tone
from tests.fakes.twilio_rest import FakeTwilioRest, RecordedRequest
from tests.fakes.twilio_webhooks import signed_post as twilio_post
from tests.server.harness import ACCOUNT_SID, AUTH_TOKEN, ROOT, Running, running_server
from tests.waiting import until

SID = "CA700"
OURS = "+15550100100"  # the number the caller dialled: the human is rung from it
DESK = "+15550100199"  # settings.escalation.number of the default flow


async def signed_post(url: str, form: dict[str, str], token: str = AUTH_TOKEN) -> httpx.Response:
    """POST as Twilio does (tests/fakes/twilio_webhooks.py), by default with the real token."""
    return await twilio_post(url, form, token)


def caller_for(server: Running, **kwargs: str) -> SimulatedCaller:
    return SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid=SID,
                           custom_parameters={"called": OURS}, **kwargs)


def media_after(caller: SimulatedCaller, start: int) -> bytes:
    return b"".join(m.payload for m in caller.received[start:] if isinstance(m, OutboundMedia))


async def ring_the_desk(server: Running, rest: FakeTwilioRest, caller: SimulatedCaller,
                        *, speak: bool) -> int:
    """Reach the warm transfer (by words to the brain, or the 0 key); return the index of
    the caller's first message received after asking for it (the music may start before
    the human's leg is placed, so an index taken after it could miss the music's start)."""
    await until(lambda: len(server.services.streams) == 1)
    (stream,) = server.services.streams
    await until(lambda: stream.call.state == "listening")
    start = len(caller.received)
    if speak:
        await caller.say(tone(0.6) + silence(0.4))
    else:
        await caller.press("0")
    await until(lambda: bool(rest.placed))
    return start


@dataclass
class Ringing:
    """A call whose warm transfer rings: the server, the fake REST, the simulated caller,
    the human's leg as placed, the call's stream and call, and the index of the caller's
    first message after the transfer was asked for."""

    server: Running
    rest: FakeTwilioRest
    caller: SimulatedCaller
    leg: RecordedRequest
    stream: Any
    call: Any
    start: int

    def url(self, hook: str) -> str:
        return f"{self.server.http_url}/webhook/transfer/{hook}?parent={SID}"


@asynccontextmanager
async def ringing(tmp_path: Path, *, speak: bool = False, flow: Path | None = None,
                  transcripts: list[str] | None = None,
                  llm: list[dict[str, Any]] = ()) -> AsyncIterator[Ringing]:
    with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, calls=(SID,)) as rest:
        async with running_server(tmp_path, flow=flow, twilio_url=rest.base_url,
                                  transcripts=transcripts) as server:
            server.world.llm.extend(llm)
            caller = caller_for(server)
            await caller.connect()
            start = await ring_the_desk(server, rest, caller, speak=speak)
            (leg,) = rest.placed
            (stream,) = server.services.streams
            yield Ringing(server, rest, caller, leg, stream, stream.call, start)


def clears(caller: SimulatedCaller) -> int:
    return sum(isinstance(m, OutboundClear) for m in caller.received)


def hears(caller: SimulatedCaller, start: int, music: bytes, seconds: float = 1.0) -> bool:
    """The caller was sent the first `seconds` of `music` after message `start`."""
    return music[: int(8000 * seconds)] in media_after(caller, start)


def test_the_caller_hears_hold_music_while_it_rings_then_no_answer_brings_back_the_agent(
        tmp_path: Path):
    async def scenario() -> None:
        async with ringing(tmp_path, transcripts=[
                "Maria Gomez", "Please call me back about the March invoice."]) as r:
            caller, call, leg, base = r.caller, r.call, r.leg, r.server.http_url
            assert leg.form["To"] == DESK and leg.form["From"] == OURS
            assert leg.form["Url"] == f"{base}/webhook/transfer/whisper?parent={SID}"
            assert leg.form["StatusCallback"] == f"{base}/webhook/transfer/status?parent={SID}"
            assert leg.form["Timeout"] == "25" and leg.form["MachineDetection"] == "Enable"
            assert not any("Twiml" in q.form for q in r.rest.requests)  # caller not moved
            await until(lambda: hears(caller, r.start, default_chime(), seconds=1.5))
            assert call.state == "transferring" and r.stream.stt is not None

            report = {"CallSid": leg.call_sid, "AccountSid": ACCOUNT_SID,
                      "CallStatus": "no-answer"}
            forged = await signed_post(r.url("status"), report, token="not-the-token")
            assert forged.status_code == 403 and call.state == "transferring"
            cleared = clears(caller)
            answer = await signed_post(r.url("status"), report)
            assert answer.status_code == 204
            await until(lambda: clears(caller) > cleared)  # the music stopped at once
            await until(lambda: call.state == "message_name")
            stop = max(i for i, m in enumerate(caller.received) if isinstance(m, OutboundClear))
            chime = {default_chime()[i:i + 160] for i in range(0, 64000, 160)}
            assert not any(m.payload in chime for m in caller.received[stop + 1:]
                           if isinstance(m, OutboundMedia))  # no music after the stop
            assert r.server.services.streams == {r.stream} and r.stream.call is call
            await until(lambda: any("nobody from our team" in t for t in r.server.tts.spoken))
            await caller.say(tone(0.6) + silence(0.4))
            await until(lambda: call.state == "message_text")
            await caller.say(tone(0.6) + silence(0.4))
            await until(lambda: call.ended, timeout=30)
            states = call.trace.states()
            i = states.index("transferring")
            assert states[i:i + 4] == ["transferring", "message_name", "message_text", "goodbye"]
            (ticket,) = r.server.services.storage.list_tickets()
            assert ticket.call_id == SID and "Maria Gomez" in ticket.summary
            assert "March invoice" in ticket.summary
            late = await signed_post(r.url("status"), {**report, "CallStatus": "busy"})
            assert late.status_code == 204  # a report for a call no longer held: no-op
            await caller.stop()
            assert caller.errors == []
        assert len(r.server.services.warm) == 0

    asyncio.run(scenario())


def test_the_human_hears_the_whisper_then_both_legs_meet_in_a_conference(tmp_path: Path):
    async def scenario() -> None:
        async with ringing(tmp_path, speak=True, transcripts=[
                "I need to talk to someone about my bill."], llm=[{"tool_call": {
                    "name": "transfer_to_human", "args": {"reason": "a billing question"}}}]
                           ) as r:
            caller, call = r.caller, r.call
            await until(lambda: hears(caller, r.start, default_chime()))
            child = {"CallSid": r.leg.call_sid, "CallStatus": "in-progress",
                     "AccountSid": ACCOUNT_SID}
            assert (await signed_post(r.url("whisper"), child, token="x")).status_code == 403
            whisper = await signed_post(r.url("whisper"), child)
            assert whisper.status_code == 200
            assert "<Say>A caller from the Bright Smile Dental virtual assistant. Reason: " \
                   "a billing question. They said: I need to talk to someone about my " \
                   "bill.</Say>" in whisper.text
            assert f'<Redirect method="POST">{r.url("join")}</Redirect>' in whisper.text
            assert call.state == "transferring"  # music on while the human listens
            before_join = len(caller.received)
            joined = await signed_post(r.url("join"), child)
            room = f"dialflow-{SID}"
            assert joined.status_code == 200 and f">{room}</Conference>" in joined.text
            assert 'endConferenceOnExit="true"' in joined.text
            def moved() -> list[RecordedRequest]:
                return [q for q in r.rest.requests if q.call_sid == SID and "Twiml" in q.form]
            await until(lambda: bool(moved()))  # the caller's move runs after the answer
            assert len(moved()) == 1 and f">{room}</Conference>" in moved()[0].form["Twiml"]
            # the music stops with a clear (it may still be on its way to the caller here)
            await until(lambda: any(isinstance(m, OutboundClear)
                                    for m in caller.received[before_join:]))
            await until(lambda: call.ended)
            assert call.state == "transferred"
            events = [e.event for e in call.trace.entries if e.event.startswith("transfer.")]
            assert events == ["transfer.answered", "transfer.completed"]
            await caller.stop()  # Twilio stops the stream as the caller joins the room
            await until(lambda: not r.server.services.streams)
            clears = [i for i, m in enumerate(caller.received) if isinstance(m, OutboundClear)]
            assert not any(isinstance(m, OutboundMedia)
                           for m in caller.received[clears[-1] + 1:])  # no music after it
            assert not any(q.form.get("Status") for q in r.rest.requests)  # no hang-up
            done = await signed_post(r.url("status"), {**child, "CallStatus": "completed"})
            assert done.status_code == 204 and call.state == "transferred"
        assert len(r.server.services.warm) == 0

    asyncio.run(scenario())


def test_a_caller_who_hangs_up_while_it_rings_stops_the_humans_phone(tmp_path: Path):
    async def scenario() -> None:
        async with ringing(tmp_path) as r:
            await r.caller.stop()
            await until(lambda: r.call.ended)
            assert r.call.state == "hung_up"
            await until(lambda: not r.server.services.streams)
            assert len(r.server.services.warm) == 0
            def cancels() -> list[str | None]:
                return [q.form.get("Status") for q in r.rest.requests
                        if q.call_sid == r.leg.call_sid]
            await until(lambda: cancels() != [])  # the REST request runs after the hang-up
            assert cancels() == ["canceled"]
            assert not any(q.call_sid == SID and q.form.get("Status") for q in r.rest.requests)
            late = await signed_post(r.url("whisper"), {"CallSid": r.leg.call_sid,
                                                        "CallStatus": "in-progress"})
            assert "Hangup" in late.text and "Conference" not in late.text

    asyncio.run(scenario())


def test_a_flow_that_moves_on_while_it_rings_stops_the_humans_phone(tmp_path: Path):
    """The call's time limit comes while the human is rung: the flow takes a message and
    says goodbye, and the human's phone stops ringing (no pick-up to a hang-up)."""
    async def scenario() -> None:
        async with ringing(tmp_path) as r:
            r.call.post("call.time_limit")
            await until(lambda: "goodbye" in r.call.trace.states(), "the goodbye")
            await until(lambda: any(q.call_sid == r.leg.call_sid
                                    and q.form.get("Status") == "canceled"
                                    for q in r.rest.requests))
            late = await signed_post(r.url("whisper"), {"CallSid": r.leg.call_sid,
                                                        "CallStatus": "in-progress"})
            assert "Hangup" in late.text and "Say" not in late.text
            await r.caller.stop()
            await until(lambda: not r.server.services.streams)

    asyncio.run(scenario())


def test_a_flow_that_moves_on_while_the_leg_is_being_placed_stops_it_once_placed(
        tmp_path: Path):
    """The time limit comes while Twilio is still answering the request that rings the
    human: once the leg exists it is cancelled (it used to ring on, the request's task
    cancelled under it, and nobody stopped it)."""
    async def scenario() -> None:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN, calls=(SID,)) as rest:
            async with running_server(tmp_path, twilio_url=rest.base_url) as server:
                caller = caller_for(server)
                await caller.connect()
                await until(lambda: len(server.services.streams) == 1)
                (stream,) = server.services.streams
                await until(lambda: stream.call.state == "listening")
                rest.stall_call("")  # Calls.create (no call sid in its path) waits
                await caller.press("0")
                await until(rest.stalling.is_set, "the leg's request to be in flight")
                stream.call.post("call.time_limit")
                await until(lambda: "goodbye" in stream.call.trace.states(), "the goodbye")
                rest.release_call("")
                await until(lambda: bool(rest.placed), "the leg placed")
                (leg,) = rest.placed
                await until(lambda: any(q.call_sid == leg.call_sid
                                        and q.form.get("Status") == "canceled"
                                        for q in rest.requests), "the leg cancelled")
                await caller.stop()
                await until(lambda: not server.services.streams)
    asyncio.run(scenario())


def test_a_flows_own_hold_music_file_is_what_the_caller_hears(tmp_path: Path):
    music = tmp_path / "hold.wav"
    rate = 16000  # resampled to 8 kHz for the call
    t = np.arange(rate * 2) / rate
    with wave.open(str(music), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes((np.sin(2 * np.pi * 440 * t) * 8000).astype("<i2").tobytes())
    flow = tmp_path / "flows.yaml"
    flow.write_text((ROOT / "flows.yaml").read_text().replace(
        "settings:\n", f"settings:\n  hold_music: {music.name}\n", 1))

    async def scenario() -> None:
        async with ringing(tmp_path, flow=flow) as r:
            assert r.server.services.flows.current().flow.settings.hold_music == str(music)
            ours = hold_audio(str(music))
            assert len(ours) == 16000  # two seconds at 8 kHz
            await until(lambda: hears(r.caller, r.start, ours + ours, seconds=2.5))  # looped
            assert not hears(r.caller, r.start, default_chime(), seconds=0.2)
            await r.caller.stop()
            await until(lambda: not r.server.services.streams)

    asyncio.run(scenario())


def test_a_voicemail_on_the_humans_phone_is_no_answer_and_the_caller_is_never_put_through(
        tmp_path: Path):
    async def scenario() -> None:
        async with ringing(tmp_path) as r:
            await until(lambda: hears(r.caller, r.start, default_chime()))
            cleared = clears(r.caller)
            machine = await signed_post(r.url("whisper"), {
                "CallSid": r.leg.call_sid, "CallStatus": "in-progress",
                "AnsweredBy": "machine_start"})
            assert "Hangup" in machine.text and "Say" not in machine.text
            await until(lambda: r.call.state == "message_name")
            await until(lambda: clears(r.caller) > cleared)  # the music stopped
            assert not any(q.call_sid == SID and "Twiml" in q.form for q in r.rest.requests)
            await r.caller.stop()
            await until(lambda: not r.server.services.streams)
        assert len(r.server.services.warm) == 0

    asyncio.run(scenario())


async def join_while_twilio_stalls(r: Ringing) -> None:
    """The human hears the whisper and joins while Twilio holds the caller's move: the join
    is the conference all the same, and the call still waits in the ringing state."""
    child = {"CallSid": r.leg.call_sid, "CallStatus": "in-progress"}
    await signed_post(r.url("whisper"), child)
    r.rest.stall_call(SID)
    joined = await signed_post(r.url("join"), child)
    assert joined.status_code == 200 and f">dialflow-{SID}</Conference>" in joined.text
    await until(r.rest.stalling.is_set)  # the caller's move waits for Twilio
    assert r.call.state == "transferring" and not r.call.ended


def test_a_slow_twilio_never_holds_the_join_and_the_caller_is_moved_after_it(
        tmp_path: Path, caplog: pytest.LogCaptureFixture):
    """The REST move of the caller is held unanswered: the human's join is answered with the
    conference anyway (under --workers N a forwarded callback has 5 s), the flow waits in
    the ringing state, and `transfer.completed` comes once Twilio answers."""
    caplog.set_level(logging.INFO, logger="dialflow.server")

    async def scenario() -> None:
        async with ringing(tmp_path) as r:
            await join_while_twilio_stalls(r)
            r.rest.release_call(SID)
            await until(lambda: r.call.ended)
            assert r.call.state == "transferred"
            assert not r.server.services.storage.list_tickets()
            await r.caller.stop()
            await until(lambda: not r.server.services.streams)

    asyncio.run(scenario())
    assert "the human and the caller are connected" in caplog.text


def test_a_bridge_twilio_refuses_is_a_failed_transfer_and_the_human_hears_why(tmp_path: Path):
    """The human is already in the room when Twilio refuses the caller's move: the human's
    leg is told why and hung up (a REST update of the leg), the flow takes a message."""
    async def scenario() -> None:
        async with ringing(tmp_path) as r:
            await join_while_twilio_stalls(r)
            r.rest.release_call(SID, status=500)
            def turned_away() -> list[RecordedRequest]:
                return [q for q in r.rest.requests if q.call_sid == r.leg.call_sid
                        and "could not be connected" in q.form.get("Twiml", "")]
            await until(lambda: bool(turned_away()))
            assert "<Hangup" in turned_away()[0].form["Twiml"]
            await until(lambda: r.call.state == "goodbye")
            (failed,) = [e for e in r.call.trace.entries if e.event == "transfer.failed"]
            assert failed.data["dial_status"] == "bridge-failed" and is_external(failed)
            await until(lambda: bool(r.server.services.storage.list_tickets()))
            (ticket,) = r.server.services.storage.list_tickets()
            assert "transfer failed" in ticket.reason
            assert r.stream.call is r.call and not r.call.ended  # still with the agent
            await r.caller.stop()
            await until(lambda: not r.server.services.streams)

    asyncio.run(scenario())


def test_without_a_number_to_ring_from_the_transfer_fails_clearly_and_a_message_is_taken(
        tmp_path: Path, caplog: pytest.LogCaptureFixture):
    async def scenario() -> None:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN,
                            calls=(SID,)) as rest:
            async with running_server(tmp_path, twilio_url=rest.base_url) as server:
                caller = SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid=SID,
                                         called="")  # no `To`, and no DIALFLOW_DIAL_FROM
                await caller.connect()
                await until(lambda: len(server.services.streams) == 1)
                (stream,) = server.services.streams
                await until(lambda: stream.call.state == "listening")
                await caller.press("0")
                await until(lambda: stream.call.state == "goodbye")
                assert not rest.placed
                await until(lambda: bool(server.services.storage.list_tickets()))
                (ticket,) = server.services.storage.list_tickets()
                assert "transfer failed" in ticket.reason
                await caller.stop()
                await until(lambda: not server.services.streams)

    asyncio.run(scenario())
    assert "warm transfer failed: no number of ours to ring the human from (set " \
           "DIALFLOW_DIAL_FROM)" in caplog.text
