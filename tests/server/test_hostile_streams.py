"""Hostile media streams through the real server: a binary frame or a number of thousands of
digits does not end the call; a hostile CallSid does not crash the start and is escaped in
the log; a second stream cannot reuse a live CallSid; a socket that never sends `start` is
closed at the start deadline; a `start` must carry the binding the signed webhook issued."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from adapters.twilio.binding import make_binding
from adapters.twilio.caller import SimulatedCaller
from engine.app.server.limits import ServerLimits
from engine.transcripts import TranscriptStore
from tests.server.harness import AUTH_TOKEN, running_server
from tests.server.raw_stream import CONNECTED, handshake_headers, start_message
from tests.server.test_server_calls import the_call, until


async def closed_with(ws: object, timeout: float = 10.0) -> int | None:
    """Read until the server closes the socket; its close code."""
    async with asyncio.timeout(timeout):
        try:
            while True:
                await ws.recv()  # type: ignore[attr-defined]
        except ConnectionClosed as exc:
            return exc.rcvd.code if exc.rcvd else None


def test_binary_frames_and_huge_numbers_do_not_end_the_call(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (running_server(tmp_path) as server,
                    SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                    call_sid="CA1") as caller):
            await until(lambda: len(server.services.streams) == 1)
            call = the_call(server)
            await until(lambda: call.state == "listening")
            assert caller._ws is not None
            await caller._ws.send(b"\x00\xff binary")
            await caller.send_raw('{"event":"media","sequenceNumber":' + "7" * 5000 + "}")
            await caller.send_raw(json.dumps({
                "event": "media", "streamSid": caller.stream_sid, "media": {
                    "track": "inbound", "chunk": "9" * 5000, "timestamp": "0",
                    "payload": ""}}))
            await asyncio.sleep(0.3)
            assert not call.ended and call.state == "listening"
            await caller.press("0")  # the call still answers
            await until(lambda: call.state in ("escalating", "goodbye", "ended"))

    asyncio.run(scenario())


def test_a_hostile_call_sid_is_dropped_then_a_good_start_works(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="dialflow")

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            url = server.ws_url
            async with connect(url, additional_headers=handshake_headers(AUTH_TOKEN, url),
                               proxy=None) as ws:
                await ws.send(CONNECTED)
                await ws.send(start_message("CA" + "x" * 300, token=AUTH_TOKEN))
                await ws.send(start_message("CA/../ok\nWARNING forged", token=AUTH_TOKEN))
                await until(lambda: len(server.services.streams) == 1)
                call = the_call(server)
                await until(lambda: call.state == "greeting")
            await until(lambda: not server.services.streams)
            files = list((tmp_path / "transcripts").iterdir())
            assert len(files) == 1 and files[0].parent == tmp_path / "transcripts"
            assert "\n" not in files[0].name and "/" not in files[0].name

    asyncio.run(scenario())
    messages = [r.getMessage() for r in caplog.records]
    assert any("longer than 64" in m for m in messages)
    assert any("CA/../ok\\nWARNING forged" in m for m in messages)
    assert not any("\n" in m for m in messages if "forged" in m)


def test_a_second_stream_cannot_reuse_a_live_call_sid(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with (running_server(tmp_path) as server,
                    SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                    call_sid="CA42") as first):
            await until(lambda: len(server.services.streams) == 1)
            call = the_call(server)
            url = server.ws_url
            async with connect(url, additional_headers=handshake_headers(AUTH_TOKEN, url),
                               proxy=None) as ws:
                await ws.send(CONNECTED)
                await ws.send(start_message("CA42", stream_sid="MZ2", token=AUTH_TOKEN))
                assert await closed_with(ws) == 1008
            assert len(server.services.streams) == 1 and not call.ended
            assert not first.closed
        lines = TranscriptStore.read(tmp_path / "transcripts" / "CA42.jsonl")
        assert [line["kind"] for line in lines].count("start") == 1

    asyncio.run(scenario())


def test_a_socket_that_never_starts_is_closed_at_the_deadline(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            server.services.limits = ServerLimits(start_deadline=0.3)
            url = server.ws_url
            async with connect(url, additional_headers=handshake_headers(AUTH_TOKEN, url),
                               proxy=None) as ws:
                await ws.send(CONNECTED)
                await until(lambda: server.services.sockets == 1)
                assert await closed_with(ws) == 1008
            await until(lambda: server.services.sockets == 0)
            assert not server.services.streams

    asyncio.run(scenario())


@pytest.mark.parametrize("case", ["missing", "other caller", "other call", "expired"])
def test_a_start_not_bound_to_the_webhook_is_refused(tmp_path: Path, case: str) -> None:
    now = time.time()
    binding = {
        "missing": "",
        "other caller": make_binding(AUTH_TOKEN, "CA7", "+15559999999", now),
        "other call": make_binding(AUTH_TOKEN, "CA8", "+15550001234", now),
        "expired": make_binding(AUTH_TOKEN, "CA7", "+15550001234", now - 3600),
    }[case]

    async def scenario() -> None:
        async with running_server(tmp_path) as server:
            url = server.ws_url
            async with connect(url, additional_headers=handshake_headers(AUTH_TOKEN, url),
                               proxy=None) as ws:
                await ws.send(CONNECTED)
                await ws.send(start_message("CA7", caller="+15550001234", binding=binding))
                assert await closed_with(ws) == 1008
            assert not server.services.streams
            assert server.services.metrics.errors_total.labels("signature")._value.get() == 1

    asyncio.run(scenario())
