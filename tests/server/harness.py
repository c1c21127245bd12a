"""Run the real server (uvicorn, FastAPI, WebSocket) on 127.0.0.1 with fake providers, and
drive it with the simulated Twilio caller. Used by the server tests and the benchmark."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn

from adapters.twilio.rest import TwilioCredentials, TwilioRest
from adapters.twilio.signature import SignatureChecker, SignatureSettings
from engine.app.server.app import create_app
from engine.app.server.flow_source import FlowSource
from engine.app.server.lean_ws import LeanWebSocketProtocol
from engine.app.server.services import Services
from engine.records.recorder import CallRecords
from engine.scripts.fakes import FakeBrain, FakeWorld
from engine.transcripts import TranscriptStore
from tests.fakes.providers import EnergyStt, ToneTts
from tools.builtin import build_registry
from tools.storage import Storage

ROOT = Path(__file__).resolve().parents[2]
AUTH_TOKEN = "test-auth-token"
ACCOUNT_SID = "AC" + "0" * 32


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Running:
    services: Services
    port: int
    world: FakeWorld
    stt: EnergyStt
    tts: ToneTts
    app: Any = None  # the FastAPI app (its `state.hooks`: the callbacks' decisions)

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/media"

    @property
    def http_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextlib.asynccontextmanager
async def running_server(tmp: Path, *, flow: Path | None = None, twilio_url: str | None = None,
                         transcripts: list[str] | None = None,
                         tts_latency: float = 0.0, stt_latency: float = 0.0,
                         records: CallRecords | None = None,
                         ) -> AsyncIterator[Running]:
    loop = asyncio.get_running_loop()
    world = FakeWorld(clock=loop.time)
    stt = EnergyStt(transcripts, latency=stt_latency)
    tts = ToneTts(latency=tts_latency)
    twilio = None
    if twilio_url:
        twilio = TwilioRest(TwilioCredentials(ACCOUNT_SID, AUTH_TOKEN), api_base_url=twilio_url)
    services = Services(
        flows=FlowSource(flow or ROOT / "flows.yaml"), stt=stt, tts=tts,
        brain=FakeBrain(world), registry=build_registry(),
        storage=Storage(f"sqlite:///{tmp / 'dialflow.db'}"),
        signatures=SignatureChecker(SignatureSettings(auth_token=AUTH_TOKEN)),
        twilio=twilio, transcripts=TranscriptStore(tmp / "transcripts"), records=records)
    port = free_port()
    app = create_app(services)
    config = uvicorn.Config(app, host="127.0.0.1", port=port,
                            log_level="warning", lifespan="on", ws_per_message_deflate=False,
                            ws=LeanWebSocketProtocol)  # as `dialflow serve` runs
    server = uvicorn.Server(config)
    task = loop.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield Running(services, port, world, stt, tts, app)
    finally:
        server.should_exit = True
        await task
        if twilio is not None:
            await twilio.aclose()
