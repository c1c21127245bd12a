"""What a load balancer reads: /health/ready is 503 while draining or full, /health/live stays
200, /health reports active calls and the per-process limit; under workers the report is the
machine's (other workers' rows on the shared board), ignoring dead and hung workers."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from types import SimpleNamespace

import httpx

from adapters.twilio.caller import SimulatedCaller
from engine.app.server import capacity
from engine.app.server.board import STALE_SECONDS, WorkerBoard, WorkerSlot, monotonic_ms
from engine.app.server.limits import ServerLimits
from tests.server.harness import AUTH_TOKEN, running_server


def test_ready_is_503_when_full_or_draining_and_live_stays_200(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with running_server(tmp_path) as server, httpx.AsyncClient() as http:
            server.services.limits = ServerLimits(max_calls=2)

            async def ready() -> httpx.Response:
                return await http.get(f"{server.http_url}/health/ready")

            first = await ready()
            assert first.status_code == 200 and first.json()["ready"] is True
            assert first.json()["capacity"]["max_calls_per_process"] == 2
            async with SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN) as one, \
                    SimulatedCaller(server.ws_url, auth_token=AUTH_TOKEN) as two:
                await one.wait_until(lambda c: len(c.heard) > 0, timeout=20)
                await two.wait_until(lambda c: len(c.heard) > 0, timeout=20)
                full = await ready()
                assert full.status_code == 503
                assert full.json()["status"] == "full" and full.json()["active_calls"] == 2
                health = (await http.get(f"{server.http_url}/health")).json()
                assert health["ready"] is False and health["limits"]["max_calls"] == 2
                assert (await http.get(f"{server.http_url}/health/live")).status_code == 200
            for _ in range(100):
                if not server.services.streams and server.services.sockets == 0:
                    break
                await asyncio.sleep(0.05)
            assert (await ready()).status_code == 200
            server.services.accepting = False  # what the first SIGTERM does
            draining = await ready()
            assert draining.status_code == 503 and draining.json()["status"] == "draining"
            assert (await http.get(f"{server.http_url}/health/live")).status_code == 200

    asyncio.run(scenario())


def _services(sockets: int, max_calls: int = 2, accepting: bool = True) -> SimpleNamespace:
    return SimpleNamespace(
        accepting=accepting, knowledge_ready=True, streams={object()} if sockets else set(),
        sockets=sockets, limits=ServerLimits(max_calls=max_calls),
        flows=SimpleNamespace(version=3), worker=None)


def test_the_report_covers_every_live_worker_on_the_board() -> None:
    board = WorkerBoard(3)
    me = _services(sockets=2)
    me.worker = WorkerSlot(board, 0)
    other = WorkerSlot(board, 1)
    other.publish(serving=True, accepting=True, active_calls=1, media_sockets=1, max_calls=2,
                  flow_version=3)
    body = capacity.report(me)  # type: ignore[arg-type]
    assert body["ready"] and body["status"] == "ok"  # worker 1 still has room
    assert body["active_calls"] == 2 and body["capacity"]["max_calls"] == 4
    assert [w["index"] for w in body["workers"]] == [0, 1]
    assert body["worker"]["pid"] == os.getpid()

    other.publish(serving=True, accepting=True, active_calls=2, media_sockets=2, max_calls=2,
                  flow_version=3)
    assert capacity.report(me)["status"] == "full"  # type: ignore[arg-type]

    board.clear(1)  # the supervisor reaped it
    assert capacity.report(me)["capacity"]["workers_serving"] == 1  # type: ignore[arg-type]

    hung = WorkerSlot(board, 2)
    hung.publish(serving=True, accepting=True, active_calls=0, media_sockets=0, max_calls=2,
                 flow_version=3)
    row = board.read(2)
    stale = {f: getattr(row, f) for f in ("pid", "serving", "accepting", "active_calls",
                                          "media_sockets", "max_calls", "flow_version")}
    board.write(2, **stale, heartbeat_ms=monotonic_ms() - int(STALE_SECONDS * 1000) - 1000)
    body = capacity.report(me)  # type: ignore[arg-type]
    assert [w["index"] for w in body["workers"]] == [0]
    assert body["status"] == "full" and not body["ready"]
