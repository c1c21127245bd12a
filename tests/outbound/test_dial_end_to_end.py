"""An outbound reminder call end to end: `dialflow dial`'s placing code asks the fake Twilio
REST server (the real twilio SDK) to create the call; playing Twilio, the test answers the
signed webhook, opens the signed media stream with the simulated caller and posts the
answering-machine result. A person confirms on the keypad; a machine gets the voicemail and
a hang-up. Also the dial API's bearer token and Twilio's refusal. Waits are on conditions."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

from adapters.twilio.signature import sign
from engine.app.commands.dial import place_and_wait
from engine.app.outbound.desk import OutboundDesk
from engine.tools_port import CallTools
from tests.fakes.twilio_dialer import detect, pick_up, ring_out
from tests.fakes.twilio_rest import FakeTwilioRest
from tests.server.harness import ACCOUNT_SID, AUTH_TOKEN, ROOT, running_server
from tests.waiting import until
from tools.calendar import BusinessCalendar

FLOW = ROOT / "examples" / "reminders.yaml"
TO = "+15551230001"
VARS = {"patient_name": "Ana", "appointment_when": "Thursday, December 3rd at 9 AM"}


def _desk(server) -> OutboundDesk:  # type: ignore[no-untyped-def]
    desk = OutboundDesk(server.services.twilio, server.services.flows.current,
                        from_number="+15550100100", base_url=server.http_url)
    server.services.outbound = desk
    return desk


async def _reminder_call(tmp: Path, answered_by: str, keys: str, given: dict | None = None,  # type: ignore[type-arg]
                         prepare: Callable | None = None) -> tuple:  # type: ignore[type-arg]
    with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as rest:
        async with running_server(tmp, flow=FLOW, twilio_url=rest.base_url) as server:
            _desk(server)
            if prepare is not None:
                prepare(server.services)
            dialing = asyncio.create_task(place_and_wait(server.services, TO, given or VARS))
            await until(lambda: bool(rest.placed))
            placed = rest.placed[0]
            async with await pick_up(placed, AUTH_TOKEN) as caller:
                await until(lambda: len(server.services.streams) == 1)
                (stream,) = server.services.streams
                call = stream.call
                assert call.state == "answering" and call.vars["patient_name"] == "Ana"
                assert await detect(placed, AUTH_TOKEN, answered_by) == 204
                await until(lambda: call.state != "answering")
                first = call.state
                if keys:
                    await until(lambda: bool(caller.echoed_marks) or call.ended)
                    for key in keys:
                        await caller.press(key)
                await until(lambda: call.ended)
                assert caller.errors == []
            assert await dialing == 0
            return placed, rest.requests, server.tts.spoken, call, first


def test_a_person_answers_and_confirms(tmp_path: Path) -> None:
    placed, requests, spoken, call, first = asyncio.run(
        _reminder_call(tmp_path, "human", "1"))
    form = placed.form
    assert form["To"] == TO and form["From"] == "+15550100100"
    assert form["MachineDetection"] == "DetectMessageEnd" and form["AsyncAmd"] == "true"
    assert "/webhook/outbound?dial=" in form["Url"]
    assert "/webhook/outbound/amd?dial=" in form["AsyncAmdStatusCallback"]
    assert first == "reminder"
    assert spoken[0].startswith("Hello Ana, this is Bright Smile Dental reminding you")
    assert any("is confirmed" in s for s in spoken)
    assert call.state == "ended"
    hang_ups = [r for r in requests if r.form.get("Status") == "completed"]
    assert [r.call_sid for r in hang_ups] == [placed.call_sid]


NOW = dt.datetime(2026, 12, 1, 15, 0, tzinfo=dt.UTC)  # Tuesday 10:00 in New York
ZONE = ZoneInfo("America/New_York")


def _with_appointment(services) -> None:  # type: ignore[no-untyped-def]
    """The person called has a cleaning on Thursday at 9; the tools run on a fixed clock."""
    start = dt.datetime(2026, 12, 3, 9, 0, tzinfo=ZONE)
    services.storage.book(name="Ana Lopez", phone=TO, start=start,
                          end=start + dt.timedelta(minutes=30), timezone=str(ZONE),
                          reason="cleaning")
    calendar = BusinessCalendar.from_settings(services.flows.current().flow.settings.business)
    services.tools_for = lambda call_id, caller: CallTools(
        services.registry, services.storage, calendar, call_id, caller, clock=lambda: NOW)


def test_a_person_answers_and_reschedules_with_the_real_tool(tmp_path: Path) -> None:
    given = {**VARS, "appointment_date": "2026-12-03", "appointment_time": "09:00",
             "offer_date": "2026-12-10", "offer_time": "09:00",
             "offer_when": "Thursday, December 10th at 9 AM"}
    holder: list = []  # type: ignore[type-arg]
    _, _, spoken, call, first = asyncio.run(_reminder_call(
        tmp_path, "human", "2", given,
        lambda services: (_with_appointment(services), holder.append(services.storage))))
    assert first == "reminder" and call.state == "ended"
    assert any("Your appointment is now on Thursday, December 10th" in s for s in spoken)
    [moved] = holder[0].upcoming_for_phone(TO, now=NOW)
    assert moved.start.astimezone(ZONE) == dt.datetime(2026, 12, 10, 9, 0, tzinfo=ZONE)


def test_a_machine_gets_the_voicemail_and_a_hang_up(tmp_path: Path) -> None:
    _, requests, spoken, call, first = asyncio.run(
        _reminder_call(tmp_path, "machine_end_beep", ""))
    assert first == "voicemail"
    assert spoken == [next(s for s in spoken if s.startswith("Hello, this is Bright Smile"))]
    assert "appointment is on Thursday, December 3rd at 9 AM" in spoken[0]
    entry = next(e for e in call.trace.entries if e.event == "call.answered_by")
    assert entry.data == {"answered_by": "machine", "detail": "machine_end_beep"}
    assert any(r.form.get("Status") == "completed" for r in requests)


def test_twilio_refusing_the_call_is_one_line(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> int:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as rest:
            rest.fail_with(400, 21215, "Account not authorized to call +15551230001")
            async with running_server(tmp_path, flow=FLOW, twilio_url=rest.base_url) as server:
                desk = _desk(server)
                code = await place_and_wait(server.services, TO, VARS)
                assert desk.dials == {}  # nothing left waiting for a call that never comes
                return code

    assert asyncio.run(scenario()) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert "Twilio refused the call (400, code 21215)" in err and "1230001" not in err


def test_the_dial_api_needs_its_bearer_token(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("DIALFLOW_DIAL_TOKEN", "s3cret-token")

    async def scenario() -> list[tuple[int, str]]:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as rest:
            async with running_server(tmp_path, flow=FLOW, twilio_url=rest.base_url) as server:
                _desk(server)
                url = server.http_url + "/calls"
                out = []
                async with httpx.AsyncClient() as client:
                    for headers, body in (
                        ({}, {"to": TO}),
                        ({"Authorization": "Bearer wrong"}, {"to": TO}),
                        ({"Authorization": "Bearer s3cret-token"}, {"to": "5551230001"}),
                        ({"Authorization": "Bearer s3cret-token"},
                         {"to": TO, "vars": {"patient_nme": "Ana"}}),
                        ({"Authorization": "Bearer s3cret-token"}, {"to": TO, "vars": VARS}),
                    ):
                        answer = await client.post(url, json=body, headers=headers)
                        out.append((answer.status_code, answer.text))
                    big = await client.post(url, content=b"x" * 5000,
                                            headers={"Authorization": "Bearer s3cret-token"})
                    out.append((big.status_code, big.text))
                assert len(rest.placed) == 1 and rest.placed[0].form["To"] == TO
                return out

    answers = asyncio.run(scenario())
    assert [code for code, _ in answers] == [401, 401, 400, 400, 201, 413]
    assert "E.164" in answers[2][1]
    assert "patient_nme" in answers[3][1] and "patient_name" in answers[3][1]
    assert '"call_sid":"CA' in answers[4][1].replace(" ", "")


def test_the_dial_api_is_off_without_its_token(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("DIALFLOW_DIAL_TOKEN", raising=False)

    async def scenario() -> int:
        async with running_server(tmp_path, flow=FLOW) as server, httpx.AsyncClient() as c:
            answer = await c.post(server.http_url + "/calls", json={"to": TO},
                                  headers={"Authorization": "Bearer anything"})
            return answer.status_code

    assert asyncio.run(scenario()) == 404


def test_nobody_picks_up(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    async def scenario() -> int:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as rest:
            async with running_server(tmp_path, flow=FLOW, twilio_url=rest.base_url) as server:
                desk = _desk(server)
                dialing = asyncio.create_task(place_and_wait(server.services, TO, VARS))
                await until(lambda: bool(rest.placed))
                assert await ring_out(rest.placed[0], AUTH_TOKEN, "busy") == 204
                code = await dialing
                assert desk.dials == {} and not server.services.streams
                return code

    assert asyncio.run(scenario()) == 0
    assert "CALL    not answered: Twilio says busy" in capsys.readouterr().out


def test_the_outbound_webhooks_take_only_twilio_and_only_our_dials(tmp_path: Path) -> None:
    async def scenario() -> list[tuple[int, str]]:
        async with running_server(tmp_path, flow=FLOW) as server, httpx.AsyncClient() as c:
            _desk(server)
            url = server.http_url + "/webhook/outbound?dial=made-up"
            form = {"CallSid": "CA" + "1" * 32, "To": TO, "From": "+15550100100"}
            out = []
            for headers in ({}, {"X-Twilio-Signature": "forged"},
                            {"X-Twilio-Signature": sign(AUTH_TOKEN, url, form)}):
                answer = await c.post(url, data=form, headers=headers)
                out.append((answer.status_code, answer.text))
            amd = server.http_url + "/webhook/outbound/amd?dial=made-up"
            forged = await c.post(amd, data={"CallSid": form["CallSid"], "AnsweredBy": "human"})
            out.append((forged.status_code, forged.text))
            return out

    answers = asyncio.run(scenario())
    assert [code for code, _ in answers] == [403, 403, 200, 403]
    assert "<Hangup" in answers[2][1] and "<Stream" not in answers[2][1]  # no such dial


def test_a_result_that_comes_before_the_stream_waits_for_it(tmp_path: Path) -> None:
    """Synchronous detection: AnsweredBy arrives on the webhook, before the stream starts;
    the call gets it just after call.started."""
    async def scenario() -> list[str]:
        with FakeTwilioRest(account_sid=ACCOUNT_SID, auth_token=AUTH_TOKEN) as rest:
            async with running_server(tmp_path, flow=FLOW, twilio_url=rest.base_url) as server:
                _desk(server)
                dialing = asyncio.create_task(place_and_wait(server.services, TO, VARS))
                await until(lambda: bool(rest.placed))
                caller = await pick_up(rest.placed[0], AUTH_TOKEN, "machine_end_silence")
                async with caller:
                    await until(lambda: len(server.services.streams) == 1)
                    (stream,) = server.services.streams
                    await until(lambda: stream.call.ended)
                assert await dialing == 0
                return [e.event for e in stream.call.trace.entries]

    events = asyncio.run(scenario())
    assert events[:2] == ["call.started", "call.answered_by"]
