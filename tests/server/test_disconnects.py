"""Abrupt disconnects never leave a phantom call: a TCP connection that drops while agent
audio is being sent still hangs the call up, and `/health` and `dialflow_active_calls` come
back to 0 (adapters/twilio/bridge/outbound.py, adapters/twilio/bridge/stream.py)."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx
import uvicorn
from starlette.websockets import WebSocketDisconnect

from adapters.twilio.bridge.outbound import OutboundAudio
from adapters.twilio.caller import SimulatedCaller
from engine.app.commands.serve import DrainingServer
from engine.app.server.app import create_app
from engine.media import FRAME_BYTES
from tests.server.harness import AUTH_TOKEN, running_server
from tests.server.raw_stream import drop_tcp
from tests.server.test_server_calls import until


def test_a_sender_whose_socket_failed_stops_quietly_and_closes() -> None:
    async def scenario() -> None:
        sent: list[str] = []

        async def send(text: str) -> None:
            sent.append(text)
            raise WebSocketDisconnect(1006)

        outbound = OutboundAudio(send, "MZ1")
        outbound.start()
        outbound.frames(b"\xff" * FRAME_BYTES * 5)
        outbound.mark("m1")
        await until(lambda: outbound.gone and not outbound.pending)
        await outbound.send_due()  # a speaker's own send does not raise either
        await outbound.close()  # the old code re-raised WebSocketDisconnect here
        assert len(sent) == 1  # nothing more was tried on the dead socket

    asyncio.run(scenario())


def active_calls_metric(text: str) -> float:
    (line,) = [ln for ln in text.splitlines() if ln.startswith("dialflow_active_calls ")]
    return float(line.split()[1])


def test_calls_dropped_mid_greeting_all_end(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path, tts_latency=0.0) as server:
            callers = [SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN,
                                       call_sid=f"CA{i:04d}") for i in range(12)]
            for caller in callers:
                await caller.connect()
            await until(lambda: len(server.services.streams) == len(callers))
            # Agent audio is flowing to every caller; now the network goes away.
            for caller in callers:
                await caller.wait_until(lambda c: len(c.received) > 3)
            for caller in callers:
                drop_tcp(caller)
            await until(lambda: not server.services.streams and not server.services.sockets)
            async with httpx.AsyncClient(base_url=server.http_url) as http:
                health = (await http.get("/health")).json()
                metrics = (await http.get("/metrics")).text
            assert health["active_calls"] == 0 and health["media_sockets"] == 0
            assert active_calls_metric(metrics) == 0
            # SIGTERM now stops at once: the drain has no dead calls to wait for.
            serve = DrainingServer(uvicorn.Config(create_app(server.services)),
                                   server.services, drain=60.0)
            serve.handle_exit(signal.SIGTERM, None)
            assert serve.should_exit and serve._draining is None
            server.services.accepting = True
            for caller in callers:
                await caller.stop()

    asyncio.run(scenario())
