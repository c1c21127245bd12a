"""A TCP connection that never completes an HTTP request is closed at the deadline (uvicorn
alone kept it forever, outside every limit of the app); requests and an upgraded media
stream are not touched by it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import uvicorn
from websockets.asyncio.client import connect

from engine.app.server.app import create_app
from engine.app.server.limits import ServerLimits
from engine.app.server.request_deadline import with_request_deadline
from tests.server.harness import AUTH_TOKEN, free_port, running_server
from tests.server.raw_stream import CONNECTED, handshake_headers

DEADLINE = 0.5


async def closed_after(reader: asyncio.StreamReader, limit: float) -> float | None:
    start = time.monotonic()
    try:
        async with asyncio.timeout(limit):
            await reader.read()
    except TimeoutError:
        return None
    return time.monotonic() - start


def test_connections_without_a_complete_request_are_closed_at_the_deadline(
    tmp_path: Path,
) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as harness:  # its services, our own transport
            services = harness.services
            services.limits = ServerLimits(start_deadline=30)
            port = free_port()
            server = uvicorn.Server(uvicorn.Config(
                create_app(services), host="127.0.0.1", port=port, log_level="warning",
                lifespan="off", http=with_request_deadline(DEADLINE)))
            task = asyncio.create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.01)
            try:
                silent_r, _ = await asyncio.open_connection("127.0.0.1", port)
                partial_r, partial_w = await asyncio.open_connection("127.0.0.1", port)
                partial_w.write(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # never finished
                url = f"ws://127.0.0.1:{port}/ws/media"
                async with connect(url, additional_headers=handshake_headers(AUTH_TOKEN, url),
                                   proxy=None) as ws:
                    await ws.send(CONNECTED)
                    silent, partial = await asyncio.gather(closed_after(silent_r, 10),
                                                           closed_after(partial_r, 10))
                    assert silent is not None and partial is not None
                    await asyncio.sleep(DEADLINE)  # the upgraded stream outlives it
                    await ws.ping()
                    assert services.sockets == 1
                async with httpx.AsyncClient() as http:
                    health = await http.get(f"http://127.0.0.1:{port}/health")
                    assert health.status_code == 200
            finally:
                server.should_exit = True
                await task

    asyncio.run(scenario())
