"""Every cloud part real but local: the server on 127.0.0.1 with the real deepgram,
anthropic, elevenlabs and twilio SDKs pointed at their fake servers, each fake optionally
given a provider's latency. Used by the whole-call test and `bench/cloud_bench.py`."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from adapters.anthropic.brain import ClaudeBrain
from adapters.deepgram.stt import DeepgramStt
from adapters.elevenlabs.tts import ElevenLabsTts
from adapters.twilio.rest import TwilioCredentials, TwilioRest
from adapters.twilio.signature import SignatureChecker, SignatureSettings
from engine.app.server.app import create_app
from engine.app.server.flow_source import FlowSource
from engine.app.server.services import Services
from engine.records.recorder import CallRecords
from tests.fakes.anthropic_server import FakeAnthropicServer
from tests.fakes.deepgram_server import Cue, FakeDeepgram
from tests.fakes.elevenlabs_server import FakeElevenLabsServer
from tests.fakes.twilio_rest import FakeTwilioRest
from tools.builtin import build_registry
from tools.storage import Storage

ROOT = Path(__file__).resolve().parents[2]
AUTH = "cloud-test-token"
SID = "AC" + "1" * 32


@dataclass
class Cloud:
    services: Services
    port: int
    claude: FakeAnthropicServer
    eleven: FakeElevenLabsServer
    deepgram: FakeDeepgram
    rest: FakeTwilioRest

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/ws/media"


@contextlib.asynccontextmanager
async def cloud_server(tmp: Path, script: list[Cue], *, calls: tuple[str, ...] = (),
                       stt_latency: float = 0.0, tts_latency: float = 0.0,
                       records: CallRecords | None = None,
                       ) -> AsyncIterator[Cloud]:
    with (FakeAnthropicServer(api_key="anthropic-key") as claude,
          FakeElevenLabsServer(api_key="eleven-key", first_byte_delay=tts_latency) as eleven,
          FakeTwilioRest(account_sid=SID, auth_token=AUTH, calls=calls) as rest):
        async with FakeDeepgram(api_key="deepgram-key", script=script,
                                latency_s=stt_latency) as deepgram:
            flow = FlowSource(ROOT / "flows.yaml")
            twilio = TwilioRest(TwilioCredentials(SID, AUTH), api_base_url=rest.base_url)
            services = Services(
                flows=flow,
                stt=DeepgramStt(env={"DEEPGRAM_API_KEY": "deepgram-key"}, base_url=deepgram.url),
                tts=ElevenLabsTts(env={"ELEVENLABS_API_KEY": "eleven-key"},
                                  base_url=eleven.base_url),
                brain=ClaudeBrain(flow.current().flow.settings, None, build_registry(),
                                  env={"ANTHROPIC_API_KEY": "anthropic-key"},
                                  base_url=claude.base_url),
                registry=build_registry(), storage=Storage(f"sqlite:///{tmp / 'calls.db'}"),
                signatures=SignatureChecker(SignatureSettings(auth_token=AUTH)), twilio=twilio,
                records=records)
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = int(s.getsockname()[1])
            server = uvicorn.Server(uvicorn.Config(
                create_app(services), host="127.0.0.1", port=port, log_level="warning",
                ws_per_message_deflate=False))
            task = asyncio.get_running_loop().create_task(server.serve())
            while not server.started:
                await asyncio.sleep(0.01)
            try:
                yield Cloud(services, port, claude, eleven, deepgram, rest)
            finally:
                server.should_exit = True
                await task
                await twilio.aclose()
