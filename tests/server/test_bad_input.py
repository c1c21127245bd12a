"""Bad input on the media stream is logged with the call id and dropped: the call goes on,
other calls are untouched, the server keeps serving."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from adapters.twilio.binding import BINDING_PARAM, make_binding
from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.signature import SIGNATURE_HEADER, sign
from tests.fakes.providers import tone
from tests.server.harness import AUTH_TOKEN, running_server
from tests.server.test_server_calls import the_call, until

BAD_MESSAGES = [
    ("malformed JSON", "{not json"),
    ("not an object", "[1, 2]"),
    ("unknown event", json.dumps({"event": "dance", "streamSid": "x"})),
    ("second start", None),  # built per call below
    ("non-base64 payload", None),
    ("oversized message", json.dumps({"event": "media", "media": {"payload": "A" * 200_000}})),
    ("mark never sent", None),
]


def _for_call(caller: SimulatedCaller, name: str, text: str | None) -> str:
    sid = caller.stream_sid
    if name == "second start":
        return json.dumps({"event": "start", "sequenceNumber": "99", "streamSid": sid,
                           "start": {"streamSid": sid, "callSid": caller.call_sid,
                                     "accountSid": caller.account_sid, "tracks": ["inbound"],
                                     "customParameters": {},
                                     "mediaFormat": {"encoding": "audio/x-mulaw",
                                                     "sampleRate": 8000, "channels": 1}}})
    if name == "non-base64 payload":
        return json.dumps({"event": "media", "streamSid": sid, "sequenceNumber": "98",
                           "media": {"track": "inbound", "chunk": "1", "timestamp": "0",
                                     "payload": "***not base64***"}})
    if name == "mark never sent":
        return json.dumps({"event": "mark", "streamSid": sid, "sequenceNumber": "97",
                           "mark": {"name": "nobody-sent-this"}})
    assert text is not None
    return text


def test_each_bad_message_is_logged_and_dropped(tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="dialflow")

    async def scenario() -> None:
        async with (running_server(tmp_path) as server,
                    SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                    call_sid="CA-bad") as caller,
                    SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                    call_sid="CA-good") as other):
            await until(lambda: len(server.services.streams) == 2)
            calls = {s.call_id: s.call for s in server.services.streams}
            await until(lambda: calls["CA-bad"].state == "listening")
            for name, text in BAD_MESSAGES:
                await caller.send_raw(_for_call(caller, name, text))
            await asyncio.sleep(0.2)
            bad = calls["CA-bad"]
            assert not bad.ended and bad.state == "listening"
            await caller.press("0")  # the call still works
            await until(lambda: bad.state in ("escalating", "goodbye", "ended"))
            good = calls["CA-good"]
            assert good.state == "listening" and not good.ended
            assert other.errors == []

    asyncio.run(scenario())
    warnings = [r.getMessage() for r in caplog.records if "CA-bad" in r.getMessage()]
    assert len(warnings) >= len(BAD_MESSAGES), warnings
    assert not any("CA-good" in r.getMessage() for r in caplog.records
                   if r.levelno >= logging.WARNING)


def test_media_before_start_is_dropped_then_the_call_starts(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            headers = {SIGNATURE_HEADER: sign(AUTH_TOKEN, server.ws_url)}
            async with connect(server.ws_url, additional_headers=headers, proxy=None) as ws:
                payload = base64.b64encode(tone(0.02)).decode()
                await ws.send(json.dumps({"event": "media", "streamSid": "MZ1",
                                          "media": {"payload": payload}}))
                await ws.send(json.dumps({"event": "connected", "protocol": "Call",
                                          "version": "1.0.0"}))
                await ws.send(json.dumps({
                    "event": "start", "sequenceNumber": "1", "streamSid": "MZ1",
                    "start": {"streamSid": "MZ1", "callSid": "CA-early", "accountSid": "AC1",
                              "tracks": ["inbound"], "customParameters": {
                                  "caller": "+1555", BINDING_PARAM: make_binding(
                                      AUTH_TOKEN, "CA-early", "+1555", time.time())},
                              "mediaFormat": {"encoding": "audio/x-mulaw", "sampleRate": 8000,
                                              "channels": 1}}}))
                await until(lambda: len(server.services.streams) == 1)
                call = the_call(server)
                await until(lambda: call.state == "greeting")
                greeting_audio = json.loads(await ws.recv())
                assert greeting_audio["event"] == "media"
            # The socket closed mid-greeting: the call is hung up and cleaned up.
            await until(lambda: call.ended and len(server.services.streams) == 0)
            assert call.trace.entries[-1].event == "call.hangup"

    asyncio.run(scenario())
