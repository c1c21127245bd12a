"""One whole call with every cloud part real but local: the server (uvicorn, Media Streams),
the real deepgram, anthropic, elevenlabs and twilio SDKs pointed at fake Deepgram, Anthropic,
ElevenLabs and Twilio REST servers on 127.0.0.1, and the simulated Twilio caller.

It also shows the streaming order: the first sentence's audio reaches Twilio while the LLM
is still holding back the rest of its reply."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import uvicorn

from adapters.anthropic.brain import ClaudeBrain
from adapters.deepgram.stt import DeepgramStt
from adapters.elevenlabs.tts import ElevenLabsTts
from adapters.twilio.caller import SimulatedCaller
from adapters.twilio.messages import OutboundMedia
from adapters.twilio.rest import TwilioCredentials, TwilioRest
from adapters.twilio.signature import SignatureChecker, SignatureSettings
from engine.server.app import create_app
from engine.server.flow_source import FlowSource
from engine.server.services import Services
from tests.fakes.anthropic_server import FakeAnthropicServer, Gate, Reply
from tests.fakes.deepgram_server import Cue, FakeDeepgram, SpeechStarted, Words
from tests.fakes.elevenlabs_server import FakeElevenLabsServer
from tests.fakes.twilio_rest import FakeTwilioRest
from tools.builtin import build_registry
from tools.storage import Storage

ROOT = Path(__file__).resolve().parents[2]
AUTH = "cloud-test-token"
SID = "AC" + "1" * 32
FIRST = "We're open until three on Fridays."
SECOND = "Is there anything else I can help with?"
QUESTION = "What time do you close on Friday?"


async def until(predicate: Callable[[], bool], timeout: float = 20.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.01)


def media_count(caller: SimulatedCaller) -> int:
    return sum(1 for m in caller.received if isinstance(m, OutboundMedia))


@contextlib.asynccontextmanager
async def server_on(services: Services) -> AsyncIterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(create_app(services), host="127.0.0.1", port=port,
                                           log_level="warning", ws_per_message_deflate=False))
    task = asyncio.get_running_loop().create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.01)
    try:
        yield port
    finally:
        server.should_exit = True
        await task


def test_whole_call_through_all_four_cloud_fakes(tmp_path: Path) -> None:
    release = threading.Event()

    async def scenario() -> None:
        # The caller's microphone streams from the start (8000 bytes a second): the question
        # "is spoken" from 2.5 s to 3.0 s of audio, after the greeting has played.
        script = [Cue(20_000, SpeechStarted()),
                  Cue(22_400, Words("What time", is_final=False)),
                  Cue(24_000, Words(QUESTION, confidence=0.97, is_final=True,
                                    speech_final=True))]
        with (FakeAnthropicServer(api_key="anthropic-key") as claude,
              FakeElevenLabsServer(api_key="eleven-key") as eleven,
              FakeTwilioRest(account_sid=SID, auth_token=AUTH, calls=("CA900",)) as rest):
            claude.script(Reply(FIRST + " ", Gate(release), SECOND))
            async with FakeDeepgram(api_key="deepgram-key", script=script) as deepgram:
                flow = FlowSource(ROOT / "flows.yaml")
                twilio = TwilioRest(TwilioCredentials(SID, AUTH), api_base_url=rest.base_url)
                services = Services(
                    flows=flow,
                    stt=DeepgramStt(env={"DEEPGRAM_API_KEY": "deepgram-key"},
                                    base_url=deepgram.url),
                    tts=ElevenLabsTts(env={"ELEVENLABS_API_KEY": "eleven-key"},
                                      base_url=eleven.base_url),
                    brain=ClaudeBrain(flow.current().flow.settings, None, build_registry(),
                                      env={"ANTHROPIC_API_KEY": "anthropic-key"},
                                      base_url=claude.base_url),
                    registry=build_registry(),
                    storage=Storage(f"sqlite:///{tmp_path / 'calls.db'}"),
                    signatures=SignatureChecker(SignatureSettings(auth_token=AUTH)),
                    twilio=twilio)
                try:
                    async with server_on(services) as port:
                        await converse(port, services, claude, eleven, deepgram, rest,
                                       release)
                finally:
                    await twilio.aclose()

    asyncio.run(scenario())


async def converse(port: int, services: Services, claude: FakeAnthropicServer,
                   eleven: FakeElevenLabsServer, deepgram: FakeDeepgram,
                   rest: FakeTwilioRest, release: threading.Event) -> None:
    url = f"ws://127.0.0.1:{port}/ws/media"
    async with SimulatedCaller(url, auth_token=AUTH, call_sid="CA900") as caller:
        await until(lambda: len(services.streams) == 1)
        call = next(iter(services.streams)).call
        assert call is not None
        await until(lambda: call.state == "listening")  # the greeting's mark came back
        await until(lambda: len(claude.requests) == 1)
        # The LLM is holding back its second sentence; the first is already audio at Twilio.
        before = media_count(caller)
        await until(lambda: media_count(caller) > before + 5)
        assert not release.is_set() and claude.finished == 0
        assert call.state == "speaking"
        release.set()
        await until(lambda: call.state == "listening")
        spoken = [r.text for r in eleven.requests]
        assert spoken[0].startswith("Thank you for calling")
        assert spoken[1:3] == [FIRST, SECOND]
        body = claude.bodies[0]
        assert QUESTION in str(body["messages"][-1])
        assert body["system"][0]["cache_control"] == {"type": "ephemeral"}
        # Caller audio reached Deepgram as Twilio's mu-law, byte for byte.
        assert bytes(deepgram.connections[0].audio[:1600]) == bytes(caller.sent_audio[:1600])
        await caller.press("0")
        await until(lambda: any("Dial" in str(r.form) for r in rest.requests))
        await until(lambda: call.ended)
        assert call.timeline.turns == 1
        assert list(call.timeline.last) == ["caller_done", "final_transcript", "retrieval",
                                            "llm_first_token", "first_sentence",
                                            "tts_first_byte", "first_frame", "first_mark"]
        assert caller.errors == []
