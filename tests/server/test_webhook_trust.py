"""The webhook's side of the trust model through the real server: its answer binds the
stream to the call (the caller number the tools use cannot be chosen by a client), forwarded
headers count only from trusted proxies, an unsigned webhook cannot forge a log line, and at
the call limit a caller hears a polite busy message. `/health` reports the limits."""

from __future__ import annotations

import asyncio
import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from adapters.twilio.binding import BINDING_PARAM
from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.signature import SIGNATURE_HEADER, SignatureChecker, SignatureSettings, sign
from adapters.twilio.urls import TrustedProxies
from engine.app.server.limits import ServerLimits
from tests.server.harness import AUTH_TOKEN, running_server
from tests.server.raw_stream import CONNECTED, handshake_headers, start_message
from tests.server.test_hostile_streams import closed_with
from tests.server.test_server_calls import the_call, until

FORM = {"CallSid": "CA77", "From": "+15551230077", "To": "+15550100100"}


async def webhook(base: str, form: dict[str, str], signed_url: str | None = None,
                  headers: dict[str, str] | None = None) -> httpx.Response:
    url = f"{base}/webhook/voice"
    async with httpx.AsyncClient() as http:
        return await http.post(url, data=form, headers={
            SIGNATURE_HEADER: sign(AUTH_TOKEN, signed_url or url, form), **(headers or {})})


def stream_parameters(twiml: str) -> dict[str, str]:
    stream = ET.fromstring(twiml).find("./Connect/Stream")
    assert stream is not None, twiml
    return {p.get("name", ""): p.get("value", "") for p in stream.findall("Parameter")}


def test_the_webhook_binds_the_stream_and_the_tools_get_the_bound_caller(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            answer = await webhook(server.http_url, FORM)
            params = stream_parameters(answer.text)
            assert params["caller"] == FORM["From"] and params[BINDING_PARAM]
            # What Twilio sends back in `start`: the call starts for that caller.
            url = server.ws_url
            async with connect(url, additional_headers=handshake_headers(AUTH_TOKEN, url),
                               proxy=None) as ws:
                await ws.send(CONNECTED)
                await ws.send(start_message("CA77", caller=FORM["From"],
                                            binding=params[BINDING_PARAM]))
                await until(lambda: len(server.services.streams) == 1)
                (stream,) = server.services.streams
                assert stream.call is not None
                tools = server.services.tools_for("CA77", FORM["From"])
                assert tools.context.caller_phone == FORM["From"]
            await until(lambda: not server.services.streams)
            # A client that rewrites the caller number the webhook bound is refused.
            answer = await webhook(server.http_url, {**FORM, "CallSid": "CA78"})
            binding = stream_parameters(answer.text)[BINDING_PARAM]
            async with connect(url, additional_headers=handshake_headers(AUTH_TOKEN, url),
                               proxy=None) as ws:
                await ws.send(CONNECTED)
                await ws.send(start_message("CA78", caller="+15550000000", binding=binding))
                assert await closed_with(ws) == 1008

    asyncio.run(scenario())


def test_forwarded_headers_count_only_from_a_trusted_proxy(tmp_path: Path) -> None:
    other = "https://another-deployment.example/webhook/voice"
    spoof = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "another-deployment.example"}

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            # 127.0.0.1 is trusted by default (a local proxy such as ngrok's agent).
            assert (await webhook(server.http_url, FORM, other, spoof)).status_code == 200
            server.services.signatures = SignatureChecker(SignatureSettings(
                AUTH_TOKEN, trusted_proxies=TrustedProxies.parse("10.0.0.0/8")))
            answer = await webhook(server.http_url, FORM, other, spoof)
            assert answer.status_code == 403
            assert (await webhook(server.http_url, FORM)).status_code == 200

    asyncio.run(scenario())


def test_an_unsigned_webhook_cannot_forge_a_log_line(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="dialflow")
    forged = {**FORM, "CallSid": "CA1\nCRITICAL dialflow.server: forged record"}

    async def scenario() -> None:
        async with running_server(tmp_path) as server, httpx.AsyncClient() as http:
            answer = await http.post(f"{server.http_url}/webhook/voice", data=forged)
            assert answer.status_code == 403
            answer = await http.post(f"{server.http_url}/webhook/voice", data=forged,
                                     headers={SIGNATURE_HEADER: "bogus"})
            assert answer.status_code == 403

    asyncio.run(scenario())
    seen = [r.getMessage() for r in caplog.records if "forged" in r.getMessage()]
    assert len(seen) == 2 and all("\n" not in m and "CA1\\nCRITICAL" in m for m in seen)


def test_at_the_call_limit_callers_hear_busy_and_health_reports_the_limits(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            server.services.limits = ServerLimits(max_calls=1, start_deadline=5,
                                                  max_message_bytes=4096)
            async with SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN, call_sid="CA1"):
                await until(lambda: len(server.services.streams) == 1)
                call = the_call(server)
                answer = await webhook(server.http_url, {**FORM, "CallSid": "CA2"})
                assert answer.status_code == 200
                root = ET.fromstring(answer.text)
                assert root.find("Say") is not None and root.find("Hangup") is not None
                assert root.find("Connect") is None
                url = server.ws_url
                with pytest.raises(InvalidStatus):  # the handshake is refused
                    await connect(url, additional_headers=handshake_headers(AUTH_TOKEN, url),
                                  proxy=None)
                async with httpx.AsyncClient() as http:
                    health = (await http.get(f"{server.http_url}/health")).json()
                assert health["limits"] == {"max_calls": 1, "start_deadline_seconds": 5,
                                            "max_message_bytes": 4096,
                                            "transport_max_bytes": 1 << 20}
                assert health["active_calls"] == 1 and not call.ended
            await until(lambda: not server.services.streams)
            assert (await webhook(server.http_url, {**FORM, "CallSid": "CA3"})).text.count(
                "<Connect>") == 1

    asyncio.run(scenario())
