"""A call's media frames take the server's short path (engine/app/server/lean_ws.py): they
reach the call as they arrive, not one by one through the stream's receive loop, and
whatever is not a plain in-order media message still goes that loop's way, in order."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest

from adapters.twilio.bridge.socket import MediaSocket
from adapters.twilio.caller import SimulatedCaller
from tests.server.harness import AUTH_TOKEN, running_server
from tests.server.test_server_calls import the_call, until


def test_media_frames_reach_the_call_without_the_receive_loop(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    received: list[Any] = []
    original = MediaSocket.receive

    async def counted(self: MediaSocket) -> str | bytes:
        message = await original(self)
        received.append(message)
        return message

    monkeypatch.setattr(MediaSocket, "receive", counted)

    async def scenario() -> tuple[int, list[Any]]:
        async with (running_server(tmp_path) as server,
                    SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                    call_sid="CA-lean")):
            await until(lambda: len(server.services.streams) == 1)
            (stream,) = server.services.streams
            await until(lambda: stream.session.media_frames >= 150)
            return stream.session.media_frames, list(received)

    frames, through_loop = asyncio.run(scenario())
    media = [m for m in through_loop if isinstance(m, str) and '"media"' in m[:40]]
    # The loop saw `connected`, `start` and the greeting's mark echoes, not the audio.
    assert frames >= 150 and len(media) < 10, (frames, len(media))
    assert len(through_loop) < 30


def test_a_bad_media_message_among_good_ones_is_refused_in_its_place(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="dialflow")

    async def scenario() -> tuple[int, int]:
        async with (running_server(tmp_path) as server,
                    SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                    call_sid="CA-mixed") as caller):
            await until(lambda: len(server.services.streams) == 1)
            call = the_call(server)
            (stream,) = server.services.streams
            await until(lambda: call.state == "listening")
            before = stream.session.media_frames
            await caller.send_raw(json.dumps({  # a stream sid that is not this stream's
                "event": "media", "streamSid": "MZ-other", "sequenceNumber": "9",
                "media": {"track": "inbound", "chunk": "1", "timestamp": "0",
                          "payload": "/w=="}}))
            await until(lambda: any("another stream" in r.getMessage()
                                    for r in caplog.records))
            await until(lambda: stream.session.media_frames >= before + 20)
            return before, stream.session.media_frames

    before, after = asyncio.run(scenario())
    assert after >= before + 20  # the good frames around it went on
    refused = [r for r in caplog.records if "another stream" in r.getMessage()]
    assert len(refused) == 1 and "CA-mixed" in refused[0].getMessage()
